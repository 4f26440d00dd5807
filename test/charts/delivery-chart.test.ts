import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { loadPlatform } from '../../config/load';
import {
  applicationNameOf,
  DELIVERY_FOLDER,
  groupOf,
  RESOURCES_FINALIZER,
  validateTargets,
} from '../../charts/delivery-chart';
import { CLUSTER_SCOPED_KINDS, find, Manifest, ofKind } from '../../core/manifest';
import { targetNamespaces } from '../../core/namespaces';
import { synthesizeAll, SynthError } from '../../pipeline/synth';
import { crdErrors } from '../crd-schema';
import {
  configOf,
  copyEnvironments,
  edit,
  manifestsOf,
  referencePlatform,
  ROOT,
  runSynth,
  TARGETS,
  treeDigest,
} from '../helpers';

type Obj = Record<string, any>;

const delivery = () => {
  const output = referencePlatform().outputs.find((o) => o.folder === DELIVERY_FOLDER);
  if (!output) throw new Error('no dist/argocd output');
  return output;
};
const applications = () => ofKind(delivery().manifests, 'Application') as Obj[];
const applicationOf = (target: string) =>
  find(delivery().manifests, 'Application', applicationNameOf(configOf(target))) as Obj;
const projectOf = (target: string) =>
  find(delivery().manifests, 'AppProject', applicationNameOf(configOf(target))) as Obj;

describe('dist/argocd', () => {
  it('holds one AppProject and one Application per target, and the root Application with its AppProject', () => {
    expect(
      ofKind(delivery().manifests, 'AppProject')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual([...TARGETS.map((t) => `trading-platform-${t}`), 'trading-platform-delivery'].sort());
    expect(
      applications()
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual([...TARGETS.map((t) => `trading-platform-${t}`), 'trading-platform-root'].sort());
    for (const m of delivery().manifests) expect([m.kind, m.metadata.namespace]).toEqual([m.kind, 'argocd']);
  });

  it('validates every object against the Argo CD CRDs (openAPIV3Schema)', () => {
    for (const m of delivery().manifests) expect(crdErrors(m)).toEqual([]);
  });

  it('would catch an Application the CRD refuses (the check is not vacuous)', () => {
    const broken = {
      ...applicationOf('staging'),
      spec: { ...applicationOf('staging').spec, destination: undefined, syncPolicy: { automated: { prune: 'yes' } } },
    };
    expect(crdErrors(JSON.parse(JSON.stringify(broken)))).toEqual([
      "Application/trading-platform-staging: /spec must have required property 'destination'",
      'Application/trading-platform-staging: /spec/syncPolicy/automated/prune must be boolean',
    ]);
  });

  it('writes a README that the root Application skips', () => {
    expect(delivery().files.get('README.md')).toContain('kubectl apply -n argocd -f dist/argocd/');
    const root = find(delivery().manifests, 'Application', 'trading-platform-root') as Obj;
    expect(root.spec.source.path).toBe('dist/argocd');
    expect(root.spec.source.directory.include).toBe('application-*.yaml');
    // the root syncs every Application file and no AppProject file
    const files = [...delivery().files.keys()];
    const glob = new RegExp(`^${root.spec.source.directory.include.replace('.', '\\.').replace('*', '.*')}$`);
    expect(files.filter((f) => glob.test(f)).length).toBe(ofKind(delivery().manifests, 'Application').length);
    expect(files.filter((f) => f.startsWith('appproject-')).some((f) => glob.test(f))).toBe(false);
    expect([...delivery().files.keys()].filter((f) => !f.endsWith('.yaml'))).toEqual(['README.md']);
  });

  it("lets the root Application manage only Applications in Argo CD's namespace, never AppProjects", () => {
    const rootProject = find(delivery().manifests, 'AppProject', 'trading-platform-delivery') as Obj;
    expect(rootProject.spec.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(rootProject.spec.clusterResourceWhitelist).toEqual([]);
    expect(rootProject.spec.namespaceResourceWhitelist).toEqual([{ group: 'argoproj.io', kind: 'Application' }]);
    for (const project of ofKind(delivery().manifests, 'AppProject') as Obj[]) {
      for (const list of [project.spec.namespaceResourceWhitelist ?? [], project.spec.clusterResourceWhitelist ?? []]) {
        expect(list.filter((k: Obj) => k.kind === 'AppProject' || k.kind === '*')).toEqual([]);
      }
    }
    expect(find(delivery().manifests, 'Application', 'trading-platform-root').spec).toMatchObject({
      project: 'trading-platform-delivery',
    });
  });
});

describe.each(TARGETS)('the AppProject of %s', (target) => {
  const config = () => configOf(target);
  const emitted = () => manifestsOf(target);

  it("restricts the source repository to the target's", () => {
    expect(projectOf(target).spec.sourceRepos).toEqual([config().delivery.repoURL]);
  });

  it("allows the target's own cluster and namespaces only, Velero's where it has backups", () => {
    const expected = targetNamespaces(config()).map((namespace) => ({ server: config().delivery.server, namespace }));
    expect(projectOf(target).spec.destinations).toEqual(expected);
    expect(projectOf(target).spec.destinations.some((d: Obj) => d.namespace === 'velero')).toBe(
      config().backups.length > 0,
    );
    // no other target's destination: an Application of this project cannot deploy there
    for (const other of TARGETS.filter((t) => t !== target)) {
      for (const namespace of targetNamespaces(configOf(other))) {
        const destination = { server: configOf(other).delivery.server, namespace };
        if (destination.server !== config().delivery.server || !targetNamespaces(config()).includes(namespace)) {
          expect(projectOf(target).spec.destinations).not.toContainEqual(destination);
        }
      }
    }
  });

  it('whitelists exactly the cluster-scoped objects the target emits, by kind and name', () => {
    const own = emitted()
      .filter((m) => CLUSTER_SCOPED_KINDS.has(m.kind))
      .map((m) => ({ group: groupOf(m.apiVersion), kind: m.kind, name: m.metadata.name }));
    const whitelist: Obj[] = projectOf(target).spec.clusterResourceWhitelist;
    expect(whitelist).toEqual(expect.arrayContaining(own));
    expect(whitelist).toHaveLength(new Set(own.map((e) => JSON.stringify(e))).size);
    expect(whitelist.map((w) => w.kind)).toEqual(expect.arrayContaining(['ClusterSecretStore', 'Namespace']));
    expect(whitelist.every((w) => w.name)).toBe(true);
    expect(whitelist.filter((w) => w.kind === 'Namespace').map((w) => w.name)).toEqual([config().namespace]);
  });

  it('whitelists every namespaced kind the target emits and nothing else', () => {
    const own = new Set(
      emitted()
        .filter((m) => !CLUSTER_SCOPED_KINDS.has(m.kind))
        .map((m) => `${groupOf(m.apiVersion)}/${m.kind}`),
    );
    expect(
      new Set((projectOf(target).spec.namespaceResourceWhitelist as Obj[]).map((w) => `${w.group}/${w.kind}`)),
    ).toEqual(own);
  });
});

describe.each(TARGETS)('the Application of %s', (target) => {
  const config = () => configOf(target);

  it('reads dist/<target> as a recursive directory of *.yaml files (the README is skipped)', () => {
    const source = applicationOf(target).spec.source;
    expect(source).toEqual({
      repoURL: config().delivery.repoURL,
      targetRevision: config().delivery.revision,
      path: `dist/${target}`,
      directory: { recurse: true, include: '*.yaml' },
    });
    const output = referencePlatform().outputs.find((o) => o.folder === target)!;
    expect([...output.files.keys()].filter((f) => !/\.yaml$/.test(f))).toEqual(['README.md']);
  });

  it("deploys to the target's cluster and namespace", () => {
    expect(applicationOf(target).spec.destination).toEqual({
      server: config().delivery.server,
      namespace: config().namespace,
    });
    expect(applicationOf(target).spec.project).toBe(applicationNameOf(config()));
  });

  it("points at a folder of dist/ that holds only this target's objects", () => {
    const folder = path.join(ROOT, applicationOf(target).spec.source.path);
    expect(fs.existsSync(folder)).toBe(true);
    const app = applicationOf(target);
    const allowed = (projectOf(target).spec.destinations as Obj[])
      .filter((d) => d.server === app.spec.destination.server)
      .map((d) => d.namespace);
    const clusterWide = (projectOf(target).spec.clusterResourceWhitelist as Obj[]).map((w) => `${w.kind}/${w.name}`);
    for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.yaml'))) {
      const m = YAML.parse(fs.readFileSync(path.join(folder, file), 'utf8')) as Manifest;
      if (CLUSTER_SCOPED_KINDS.has(m.kind)) expect(clusterWide).toContain(`${m.kind}/${m.metadata.name}`);
      else expect([file, allowed.includes(m.metadata.namespace!)]).toEqual([file, true]);
      if (m.kind === 'Namespace') expect(m.metadata.name).toBe(config().namespace);
      if (!CLUSTER_SCOPED_KINDS.has(m.kind) && m.metadata.namespace !== config().namespace)
        expect(m.kind).toBe('Schedule');
    }
  });

  it('syncs as configured: automated with prune and self-heal, or manual in production', () => {
    const policy = applicationOf(target).spec.syncPolicy;
    if (config().tier === 'production') {
      expect(config().delivery.sync).toBe('manual');
      expect(policy.automated).toBeUndefined();
    } else {
      expect(policy.automated).toEqual({ prune: true, selfHeal: true });
    }
    expect(policy.syncOptions).toEqual(
      expect.arrayContaining(['CreateNamespace=false', 'PruneLast=true', 'ApplyOutOfSyncOnly=true']),
    );
    expect(policy.syncOptions).not.toContain('ServerSideApply=true');
  });

  it('cascades deletion only outside production', () => {
    const finalizers = applicationOf(target).metadata.finalizers;
    if (config().tier === 'production') expect(finalizers).toBeUndefined();
    else expect(finalizers).toEqual([RESOURCES_FINALIZER]);
  });
});

describe('production', () => {
  it('has no automated sync anywhere', () => {
    for (const app of applications().filter((a) => a.metadata.name.includes('production'))) {
      expect([app.metadata.name, app.spec.syncPolicy.automated]).toEqual([app.metadata.name, undefined]);
    }
  });

  it('deploys each region to its own cluster', () => {
    expect(applicationOf('production-us-east-1').spec.destination.server).not.toBe(
      applicationOf('production-eu-west-1').spec.destination.server,
    );
  });
});

describe('synth --target', () => {
  it('neither writes nor checks dist/argocd, which is made from all targets at once', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const envs = copyEnvironments();
    expect(runSynth(['--config', envs, '--out', out, '--quiet']).status).toBe(0);
    const before = treeDigest(path.join(out, 'argocd'));
    expect(fs.existsSync(path.join(out, 'argocd', 'application-trading-platform-root.yaml'))).toBe(true);
    const result = runSynth(['--config', envs, '--out', out, '--target', 'staging']);
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('argocd');
    expect(treeDigest(path.join(out, 'argocd'))).toBe(before);
    expect(runSynth(['--config', envs, '--out', out, '--target', 'staging', '--check', '--quiet']).status).toBe(0);
  });
});

describe('refusals across targets', () => {
  it('fails when two targets deploy to the same cluster and namespace', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'production.yaml',
      'server: https://prod-eu-west-1.k8s.trading.example.com',
      'server: https://prod-us-east-1.k8s.trading.example.com',
    );
    let error: unknown;
    try {
      synthesizeAll(loadPlatform(dir));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    expect((error as SynthError).problems).toEqual([
      'argocd: targets production-eu-west-1 and production-us-east-1 both deploy to https://prod-us-east-1.k8s.trading.example.com namespace trading-prod; Argo CD would let their Applications overwrite each other. Give each its own delivery.server (its cluster) or namespace',
    ]);
  });

  it("fails when an environment copied by hand keeps the original's cluster-wide names on its cluster; passes once renamed", () => {
    const dir = copyEnvironments();
    // what new-env does, without its renaming: a copy of staging with a namespace of its own
    fs.writeFileSync(
      path.join(dir, 'qa.yaml'),
      fs
        .readFileSync(path.join(dir, 'staging.yaml'), 'utf8')
        .replace(/^namespace: trading-staging$/m, 'namespace: trading-qa'),
    );
    const problemsOf = () => {
      try {
        synthesizeAll(loadPlatform(dir));
        return [];
      } catch (e) {
        if (e instanceof SynthError) return e.problems;
        throw e;
      }
    };
    // the ClusterSecretStore of staging's name on staging's cluster
    const [problem, ...others] = problemsOf();
    expect(others).toEqual([]);
    expect(problem).toMatch(
      /^argocd: targets qa and staging both deploy ClusterSecretStore "aws-secrets-manager" to https:\/\/staging\.k8s\.trading\.example\.com: one cluster, where an object belongs to one Argo CD Application \(the other's sync fails\)/,
    );
    expect(problem).toContain(
      `Give one of them its own secretStore.name or another cluster (delivery.server), in ${path.relative(process.cwd(), path.join(dir, 'qa.yaml'))} or `,
    );
    edit(dir, 'qa.yaml', 'name: aws-secrets-manager\n', 'name: aws-secrets-manager-qa\n');
    expect(problemsOf()).toEqual([]);
  });

  it('fails when targets read different repositories, naming each', () => {
    const targets = referencePlatform().configs.map((config) => ({ config, manifests: manifestsOf(config.target) }));
    const moved = targets.map((t) =>
      t.config.target === 'staging'
        ? {
            ...t,
            config: { ...t.config, delivery: { ...t.config.delivery, repoURL: 'https://example.com/other.git' } },
          }
        : t,
    );
    expect(validateTargets(moved)).toEqual([
      expect.stringContaining(
        `dist/argocd is one folder for all targets, so they must share delivery.repoURL; got "https://github.com/trading-platform/platform-manifests.git" (${TARGETS.filter(
          (t) => t !== 'staging',
        )
          .sort()
          .join(', ')}), "https://example.com/other.git" (staging)`,
      ),
    ]);
  });

  it('accepts the reference platform', () => {
    const targets = referencePlatform().configs.map((config) => ({ config, manifests: manifestsOf(config.target) }));
    expect(validateTargets(targets)).toEqual([]);
  });
});
