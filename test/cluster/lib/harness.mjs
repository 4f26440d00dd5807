// What the cluster test (test/cluster/run.mjs) and the live twin (test/live/run.mjs) share around
// their control planes: the binaries, the targets, clean-up whatever happens, CRD installation,
// the namespaces a target uses but does not define, and a small work pool.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllSync } from './controlplane.mjs';
import { waitFor } from './kube.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CRD_DIR = process.env.CLUSTER_TEST_CRDS ?? path.resolve(REPO, '../shared/k8s/crds');

/** Namespaces every cluster has; never pre-created. */
export const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** A path relative to the working directory when below it, else absolute. */
export function rel(p) {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? path.resolve(p) : r || '.';
}

/**
 * Kills every process started through controlplane.mjs and runs `extra` on exit, on
 * SIGINT/SIGTERM/SIGHUP and on an internal error (uncaught exception, unhandled rejection).
 * Returns the clean-up function (idempotent) and `cleaned()`.
 */
export function installCleanup(prefix, extra = () => {}) {
  let done = false;
  const cleanup = () => {
    if (done) return;
    done = true;
    killAllSync();
    extra();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\n${prefix}: got ${sig}, cleaning up`);
      cleanup();
      process.exit(130);
    });
  }
  for (const ev of ['uncaughtException', 'unhandledRejection']) {
    process.on(ev, (err) => {
      console.error(`${prefix}: internal error:`, err?.stack ?? err);
      cleanup();
      process.exit(2);
    });
  }
  return { cleanup, cleaned: () => done };
}

/**
 * The binaries: `dir` when given (KUBEBUILDER_ASSETS, LIVE_TEST_ASSETS), else built or found in
 * the cache by test/cluster/build-assets.sh (`--live`: also the twin's). Throws when one of
 * `need` is missing.
 */
export function resolveAssets({ dir, live = false, need, log }) {
  if (dir) log(`using ${dir}`);
  else {
    const t0 = Date.now();
    const res = spawnSync('bash', [path.join(REPO, 'test/cluster/build-assets.sh'), ...(live ? ['--live'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (res.status !== 0) throw new Error(`build-assets.sh${live ? ' --live' : ''} failed (exit ${res.status})`);
    dir = res.stdout.toString().trim().split('\n').pop();
    log(`assets in ${dir} (${Math.round((Date.now() - t0) / 1000)}s)`);
  }
  const missing = need.filter((b) => !fs.existsSync(path.join(dir, b)));
  if (missing.length) throw new Error(`missing in ${dir}: ${missing.join(', ')}`);
  return dir;
}

/** The output folders: dist/ and examples/<system>/dist/, those that exist. */
export function distRoots() {
  const roots = [path.join(REPO, 'dist')];
  const examples = path.join(REPO, 'examples');
  if (fs.existsSync(examples)) {
    for (const e of fs
      .readdirSync(examples, { withFileTypes: true })
      .filter((x) => x.isDirectory())
      .sort((a, b) => a.name.localeCompare(b.name))) {
      roots.push(path.join(examples, e.name, 'dist'));
    }
  }
  return roots.filter((r) => fs.existsSync(r));
}

/** The target folders under the output folders (`keep(dir)` filters). */
export function targetFolders(keep = () => true) {
  const out = [];
  for (const dist of distRoots()) {
    const dirs = fs
      .readdirSync(dist, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dist, e.name))
      .sort();
    out.push(...dirs.filter(keep));
  }
  return out;
}

/** Namespaces the objects use but do not define (owned by other installs: argocd, monitoring, ...). */
export function externalNamespaces(objects) {
  const defined = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.name));
  return [...new Set(objects.map((o) => o.namespace).filter(Boolean))]
    .filter((n) => !defined.has(n) && !SYSTEM_NAMESPACES.has(n))
    .sort();
}

/**
 * Installs CRDs (server-side) and waits until every one is Established. Polls rather than
 * `kubectl wait --for=condition=Established crd --all`: that errors out at once on a CRD whose
 * status has no conditions yet. Returns the apply's output (for its warnings).
 */
export async function installCrds(kube, crds, { timeoutMs = 90_000 } = {}) {
  if (!crds.count) return '';
  const res = await kube.run(['apply', '--server-side', '--force-conflicts', '--field-manager=harness', '-f', '-'], {
    input: crds.yaml,
  });
  if (res.code !== 0 || /^(Error|error)/m.test(res.out))
    throw new Error(`installing CRDs failed (${res.cmd}):\n${res.out}`);
  const r = await waitFor(
    async () => {
      const items = await kube.json(['get', 'crd']);
      const pending = items
        .filter((c) => !(c.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True'))
        .map((c) => c.metadata.name);
      return { done: items.length >= crds.count && !pending.length, pending };
    },
    { timeoutMs, intervalMs: 300 },
  );
  if (!r.ok)
    throw new Error(`CRDs not Established after ${timeoutMs / 1000}s: ${r.last?.pending?.join(', ') ?? r.last?.error}`);
  return res.out;
}

/** Runs `fn` over `items`, at most `jobs` at once; results in the order of `items`. */
export async function pool(items, jobs, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return out;
}
