import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { listNames } from '../config/errors';
import { TargetConfig } from '../config/types';
import { LABEL, platformLabels } from '../constructs/labels';
import { Application, ApplicationSpecSyncPolicy } from '../imports/application-argoproj.io';
import { AppProject } from '../imports/appproject-argoproj.io';
import { CLUSTER_SCOPED_KINDS, Manifest } from '../core/manifest';
import { ARGOCD_NAMESPACE, targetNamespaces } from '../core/namespaces';
import { SYNC_WAVE } from '../core/sync-waves';

export { ARGOCD_NAMESPACE };

/** Argo CD's own cluster, where the Applications themselves are applied. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
/** The folder of dist/ this chart is written to (and the root Application reads). */
export const DELIVERY_FOLDER = 'argocd';
/** Deleting an Application with this finalizer deletes the objects it deployed. */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/**
 * Options of every target Application's sync. Client-side apply is kept on purpose: Argo
 * Rollouts writes `rollouts-pod-template-hash` into the Services' selectors, which a three-way
 * client-side diff ignores; server-side apply is set per large object instead (core/sync-waves.ts).
 */
export const TARGET_SYNC_OPTIONS = [
  // the target folder carries its own Namespace, with its Pod Security labels
  'CreateNamespace=false',
  // delete what left Git only after everything new is healthy
  'PruneLast=true',
  'PrunePropagationPolicy=foreground',
  // apply only what drifted: large targets sync faster and untouched objects are left alone
  'ApplyOutOfSyncOnly=true',
  // two Applications must never own one object (e.g. a PriorityClass of two targets on one cluster)
  'FailOnSharedResource=true',
];

/** One target as the delivery layer sees it: its configuration and what it synthesized. */
export interface DeliveryTarget {
  readonly config: TargetConfig;
  readonly manifests: readonly Manifest[];
}

export interface DeliveryChartProps {
  readonly targets: readonly DeliveryTarget[];
}

/** An Argo CD resource restriction: API group and kind, and for cluster-scoped objects a name. */
interface Restriction {
  readonly group: string;
  readonly kind: string;
  readonly name?: string;
}

export const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
/** The Application of a target. */
export const applicationNameOf = (config: TargetConfig) => `${config.platform.name}-${config.target}`;
/** Where a target's manifests are inside the repository. */
export const targetPathOf = (config: TargetConfig) => `${config.delivery.path ?? 'dist'}/${config.target}`;

/**
 * The delivery layer of every target at once, written to `dist/argocd/`: an app-of-apps.
 *
 * - One AppProject per target, named like its Application: the Application may read only the
 *   target's repository, deploy only to the target's cluster and namespaces (its own, plus
 *   Velero's for Schedules), create only the cluster-scoped objects the target emits, by kind and
 *   name, and only the namespaced kinds it emits. One project per target, not one for all: a
 *   development Application (automated, often on a moving revision) can then never be pointed
 *   at a production cluster, and each project allows no more than its target needs.
 * - One Application per target, in its own project, reading `dist/<target>` as a directory (`*.yaml` only, so the
 *   README is skipped). Automated sync with prune and self-heal where configured; production is
 *   synced by hand. Non-production Applications carry the resources finalizer (deleting the
 *   Application deletes the environment); production's do not, so removing an Application never
 *   deletes production workloads.
 * - A root Application (project `<platform>-delivery`, allowed only Applications in Argo CD's
 *   namespace) that reads the Applications of this folder, so a merged change to them is applied
 *   without anyone running kubectl. The AppProjects are bootstrap objects, applied (and changed)
 *   only by an administrator with `kubectl apply`: a project that could change AppProjects would
 *   let one commit widen every project.
 *
 * App-of-apps rather than an ApplicationSet: every Application is a plain file in dist/ that is
 * reviewed, diffed and schema-checked like the targets, per-target differences (sync policy,
 * finalizer, destination) stay data instead of template patches, and the root needs no
 * generator to be trusted with cluster credentials.
 */
/** The files of dist/argocd the root Application syncs: the Applications, never the AppProjects. */
export const ROOT_INCLUDE = 'application-*.yaml';

export class DeliveryChart extends Chart {
  /** Target → the name of its AppProject (the same as its Application's). */
  readonly projects: ReadonlyMap<string, string>;
  readonly rootProject: string;
  readonly applications: ReadonlyMap<string, string>;

  constructor(scope: Construct, id: string, props: DeliveryChartProps) {
    const targets = [...props.targets].sort((a, b) => a.config.target.localeCompare(b.config.target));
    const first = targets[0]?.config;
    if (!first) throw new Error('DeliveryChart needs at least one target');
    super(scope, id, {
      namespace: ARGOCD_NAMESPACE,
      labels: { ...platformLabels(first.platform.name), [LABEL.component]: 'delivery' },
      disableResourceNameHashes: true,
    });
    const platform = first.platform.name;
    this.rootProject = `${platform}-delivery`;
    const distPath = first.delivery.path ?? 'dist';

    const applications = new Map<string, string>();
    const projects = new Map<string, string>();
    for (const target of targets) {
      const { config } = target;
      const name = applicationNameOf(config);
      applications.set(config.target, name);
      projects.set(config.target, name);
      new AppProject(this, `project-${config.target}`, {
        metadata: { name, annotations: { [SYNC_WAVE]: '-1' } },
        spec: {
          description: `${platform} in ${config.target}: what dist/${config.target} holds, on ${config.cluster.name}`,
          sourceRepos: [config.delivery.repoURL],
          destinations: targetNamespaces(config).map((namespace) => ({ server: config.delivery.server, namespace })),
          clusterResourceWhitelist: restrictions([target], true),
          namespaceResourceWhitelist: restrictions([target], false),
          orphanedResources: { warn: true },
        },
      });
      const automated = config.delivery.sync === 'automated';
      const syncPolicy: ApplicationSpecSyncPolicy = {
        automated: automated ? { prune: true, selfHeal: true } : undefined,
        syncOptions: TARGET_SYNC_OPTIONS,
        retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
      };
      new Application(this, `application-${config.target}`, {
        metadata: {
          name,
          labels: { [LABEL.instance]: `${platform}-${config.environment}` },
          annotations: { [SYNC_WAVE]: '0' },
          // production objects outlive their Application; other environments are disposable
          finalizers: config.tier === 'production' ? undefined : [RESOURCES_FINALIZER],
        },
        spec: {
          project: name,
          source: {
            repoUrl: config.delivery.repoURL,
            targetRevision: config.delivery.revision,
            path: targetPathOf(config),
            directory: { recurse: true, include: '*.yaml' },
          },
          destination: { server: config.delivery.server, namespace: config.namespace },
          syncPolicy,
          revisionHistoryLimit: 10,
          info: [
            { name: 'cluster', value: config.cluster.name },
            { name: 'sync', value: automated ? 'automated (prune, self-heal)' : 'manual' },
          ],
        },
      });
    }
    this.applications = applications;
    this.projects = projects;

    new AppProject(this, 'root-project', {
      metadata: { name: this.rootProject, annotations: { [SYNC_WAVE]: '-1' } },
      spec: {
        description: `Argo CD's own objects for ${platform}: the Applications of ${distPath}/${DELIVERY_FOLDER} (AppProjects are applied by an administrator)`,
        sourceRepos: [first.delivery.repoURL],
        destinations: [{ server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE }],
        clusterResourceWhitelist: [],
        // Applications only: a project that may change AppProjects lets one commit widen every project
        namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'Application' }],
      },
    });
    new Application(this, 'root', {
      metadata: { name: `${platform}-root`, annotations: { [SYNC_WAVE]: '0' } },
      spec: {
        project: this.rootProject,
        source: {
          repoUrl: first.delivery.repoURL,
          targetRevision: first.delivery.revision,
          path: `${distPath}/${DELIVERY_FOLDER}`,
          // the Applications only: the AppProjects beside them are bootstrap objects
          directory: { recurse: false, include: ROOT_INCLUDE },
        },
        destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['CreateNamespace=false', 'PruneLast=true'],
          retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
        },
        revisionHistoryLimit: 10,
      },
    });

    this.node.addValidation({ validate: () => validateTargets(targets) });
  }
}

/** Rules that span targets: one repository tree, one destination per target, no object two targets both deploy. */
export function validateTargets(targets: readonly DeliveryTarget[]): string[] {
  const sorted = [...targets].sort((a, b) => a.config.target.localeCompare(b.config.target));
  return [...validateTargetConfigs(sorted.map((t) => t.config)), ...sharedObjectErrors(sorted)];
}

/**
 * The rules dist/argocd sets on the targets' configuration alone: one repository tree, one
 * destination per target, an https:// API server, no target named like its folder. `npm run synth
 * -- --target` checks them against every target, not only those it builds, so that it never
 * writes a folder a full synth would refuse for them.
 */
export function validateTargetConfigs(configs: readonly TargetConfig[]): string[] {
  const targets = [...configs].sort((a, b) => a.target.localeCompare(b.target));
  const errors: string[] = [];
  const describe = (values: Map<string, string[]>) =>
    [...values].map(([value, names]) => `"${value}" (${names.join(', ')})`).join(', ');
  for (const [field, get] of [
    ['platform.name', (c: TargetConfig) => c.platform.name],
    ['delivery.repoURL', (c: TargetConfig) => c.delivery.repoURL],
    ['delivery.path', (c: TargetConfig) => c.delivery.path ?? 'dist'],
    ['delivery.revision', (c: TargetConfig) => c.delivery.revision],
  ] as const) {
    const values = groupBy(targets, get);
    if (values.size > 1) {
      errors.push(
        `dist/${DELIVERY_FOLDER} is one folder for all targets, so they must share ${field}; got ${describe(values)}. Set the same ${field} in every environment (e.g. in defaults.yaml)`,
      );
    }
  }
  const destinations = groupBy(targets, (c) => `${c.delivery.server} namespace ${c.namespace}`);
  for (const [destination, names] of destinations) {
    if (names.length > 1) {
      errors.push(
        `targets ${names.join(' and ')} both deploy to ${destination}; Argo CD would let their Applications overwrite each other. Give each its own delivery.server (its cluster) or namespace`,
      );
    }
  }
  for (const config of targets) {
    if (config.target === DELIVERY_FOLDER) {
      errors.push(
        `a target named "${config.target}" would share dist/${DELIVERY_FOLDER} with Argo CD's Applications; rename the environment or region`,
      );
    }
    if (!/^https:\/\/[^\s/]+/.test(config.delivery.server)) {
      errors.push(
        `delivery.server of ${config.target} is "${config.delivery.server}"; it must be the https:// URL of the cluster's API server as registered in Argo CD`,
      );
    }
  }
  return errors;
}

/** Where to rename an object that two targets on one cluster both deploy, by kind. */
const RENAME_IN: Record<string, string> = {
  ClusterSecretStore: 'secretStore.name',
  PriorityClass: 'priorityClasses.<class>.name',
  Namespace: 'namespace',
};

/**
 * Targets on one cluster (delivery.server) in different namespaces still deploy their
 * cluster-scoped objects, and any object outside their namespaces, into one space of names: a
 * copied environment keeps its ClusterSecretStore and PriorityClass names. Argo CD gives an object
 * to one Application (the others' syncs fail on FailOnSharedResource), and `kubectl apply` of both
 * folders lets the last one win; so each such object is refused, once per pair of targets.
 * (Targets that share the namespace as well are refused above, as a whole.)
 */
function sharedObjectErrors(targets: readonly DeliveryTarget[]): string[] {
  const errors: string[] = [];
  for (const server of new Set(targets.map((t) => t.config.delivery.server))) {
    const owner = new Map<string, DeliveryTarget>();
    const shared = new Map<string, { first: DeliveryTarget; second: DeliveryTarget; objects: Manifest[] }>();
    for (const target of targets.filter((t) => t.config.delivery.server === server)) {
      for (const m of target.manifests) {
        const id = `${groupOf(m.apiVersion)}/${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
        const first = owner.get(id);
        if (!first) {
          owner.set(id, target);
        } else if (first.config.namespace !== target.config.namespace) {
          const pair = `${first.config.target} ${target.config.target}`;
          const entry = shared.get(pair) ?? { first, second: target, objects: [] };
          entry.objects.push(m);
          shared.set(pair, entry);
        }
      }
    }
    for (const { first, second, objects } of shared.values()) {
      const named = objects.map(
        (m) => `${m.kind} "${m.metadata.name}"${m.metadata.namespace ? ` in ${m.metadata.namespace}` : ''}`,
      );
      const listed = listNames(named, 5);
      const fields = [...new Set(objects.map((m) => RENAME_IN[m.kind]).filter(Boolean))];
      const files = [first, second].map((t) => t.config.sources[t.config.sources.length - 1]).join(' or ');
      errors.push(
        `targets ${first.config.target} and ${second.config.target} both deploy ${listed} to ${server}: one cluster, where an object belongs to one Argo CD Application (the other's sync fails) and kubectl apply lets the last folder win. Give one of them ${fields.length ? `its own ${fields.join(' and ')} or ` : ''}another cluster (delivery.server), in ${files}`,
      );
    }
  }
  return errors;
}

function restrictions(targets: readonly DeliveryTarget[], clusterScoped: boolean): Restriction[] {
  const all = targets
    .flatMap((t) => t.manifests)
    .filter((m) => CLUSTER_SCOPED_KINDS.has(m.kind) === clusterScoped)
    .map((m): Restriction => ({
      group: groupOf(m.apiVersion),
      kind: m.kind,
      name: clusterScoped ? m.metadata.name : undefined,
    }));
  return uniqueBy(all, (r) => `${r.group} ${r.kind} ${r.name ?? ''}`).sort(
    (a, b) =>
      a.group.localeCompare(b.group) || a.kind.localeCompare(b.kind) || (a.name ?? '').localeCompare(b.name ?? ''),
  );
}

function uniqueBy<T>(values: T[], key: (value: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const value of values) if (!seen.has(key(value))) seen.set(key(value), value);
  return [...seen.values()];
}

/** The targets' names by `key` of their configuration. */
function groupBy(configs: readonly TargetConfig[], key: (c: TargetConfig) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const c of configs) groups.set(key(c), [...(groups.get(key(c)) ?? []), c.target]);
  return groups;
}
