import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers';

/**
 * kube-score (a widely used Kubernetes linter) over every committed target: dist/<target> and
 * examples/<example>/dist/<target>. No CRITICAL finding is allowed except the two kinds it cannot
 * see (README.md, "kube-score"):
 * - a Service, NetworkPolicy, PodDisruptionBudget or HPA whose pods are an Argo Rollout's:
 *   kube-score knows Deployments and StatefulSets only, so it finds no pod behind them;
 * - `imagePullPolicy` other than Always: every image is pinned (a full version or a digest), so
 *   IfNotPresent pulls exactly the same image without a registry round trip per start.
 *
 * kube-score is a Go program; .ci/run installs it (`go install`, cached under
 * ~/.cache/trading-platform/tools). Without it this test fails, saying how to install it.
 */
jest.setTimeout(180_000);

export const KUBE_SCORE_VERSION = 'v1.20.0';
const TOOLS = path.join(os.homedir(), '.cache', 'trading-platform', 'tools');
const BINARY = process.env.KUBE_SCORE ?? path.join(TOOLS, 'kube-score');
const INSTALL = `GOBIN=${TOOLS} go install github.com/zegl/kube-score/cmd/kube-score@${KUBE_SCORE_VERSION}`;

type Obj = Record<string, any>;

/** Every committed target folder with Kubernetes objects (not argocd/, which holds Argo CD objects only). */
function targetDirs(): string[] {
  const dirs: string[] = [];
  const add = (dist: string) => {
    if (!fs.existsSync(dist)) return;
    for (const d of fs.readdirSync(dist).sort())
      if (d !== 'argocd' && fs.statSync(path.join(dist, d)).isDirectory()) dirs.push(path.join(dist, d));
  };
  add(path.join(ROOT, 'dist'));
  for (const example of fs.readdirSync(path.join(ROOT, 'examples')).sort())
    add(path.join(ROOT, 'examples', example, 'dist'));
  return dirs;
}

/** The objects of one folder, by `kind/name`. */
function objectsOf(dir: string): Obj[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as Obj));
}

/** Whether an object kube-score says selects nothing selects (or targets) the pods of an Argo Rollout or of its analysis Jobs. */
function selectsRolloutPods(objects: Obj[], kind: string, name: string): boolean {
  const rollouts = objects.filter((o) => o.kind === 'Rollout');
  const object = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!object) return false;
  if (kind === 'HorizontalPodAutoscaler') return object.spec.scaleTargetRef?.kind === 'Rollout';
  const selector: Record<string, string> =
    kind === 'Service'
      ? (object.spec.selector ?? {})
      : (object.spec.podSelector?.matchLabels ?? object.spec.selector?.matchLabels ?? {});
  // the pods of a Rollout, and those of the Jobs its analysis runs (the blue/green smoke test)
  const jobPods = objects
    .filter((o) => o.kind === 'AnalysisTemplate')
    .flatMap((t) =>
      (t.spec.metrics ?? []).map((m: Obj) => m.provider?.job?.spec?.template?.metadata?.labels).filter(Boolean),
    );
  const podLabels: Array<Record<string, string>> = [
    ...rollouts.map((r) => r.spec.template?.metadata?.labels ?? {}),
    ...jobPods,
  ];
  return (
    Object.keys(selector).length > 0 &&
    podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v))
  );
}

const CANNOT_SEE_ROLLOUT =
  /The services selector does not match any pods|The NetworkPolicys selector doesn't match any pods|The HPA target does not match anything|No pods match the PodDisruptionBudget|The PodDisruptionBudget's selector doesn't match/;
const PINNED_PULL_POLICY = /ImagePullPolicy is not set to Always/;
const KIND_OF: Record<string, string> = {
  Service: 'Service',
  NetworkPolicy: 'NetworkPolicy',
  HorizontalPodAutoscaler: 'HorizontalPodAutoscaler',
  PodDisruptionBudget: 'PodDisruptionBudget',
};

describe('kube-score', () => {
  it(`is installed (${KUBE_SCORE_VERSION})`, () => {
    if (!fs.existsSync(BINARY))
      throw new Error(`kube-score not found at ${BINARY}; install it with: ${INSTALL} (.ci/run does)`);
  });

  it('reports no CRITICAL over any target except what it cannot see', () => {
    const dirs = targetDirs();
    expect(dirs.length).toBeGreaterThanOrEqual(4 + 5 * 3);
    const unexpected: string[] = [];
    let allowed = 0;
    for (const dir of dirs) {
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => path.join(dir, f));
      const run = spawnSync(BINARY, ['score', '--kubernetes-version', 'v1.28', '--output-format', 'ci', ...files], {
        encoding: 'utf8',
      });
      if (run.error) throw new Error(`kube-score could not be run (${run.error.message}); install it with: ${INSTALL}`);
      expect(run.stdout).toMatch(/\[(OK|SKIPPED|WARNING|CRITICAL)\]/);
      const objects = objectsOf(dir);
      for (const line of run.stdout.split('\n').filter((l) => l.startsWith('[CRITICAL]'))) {
        // [CRITICAL] <name>/<namespace> <apiVersion>/<Kind>: <message>
        const m = /^\[CRITICAL\] ([^/\s]+)\/\S* (?:\S+\/)?(\w+): (.*)$/.exec(line);
        if (m && PINNED_PULL_POLICY.test(m[3])) {
          allowed++;
          continue;
        }
        if (m && CANNOT_SEE_ROLLOUT.test(m[3]) && KIND_OF[m[2]] && selectsRolloutPods(objects, m[2], m[1])) {
          allowed++;
          continue;
        }
        unexpected.push(`${path.relative(ROOT, dir)}: ${line}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(allowed).toBeGreaterThan(0);
  });
});
