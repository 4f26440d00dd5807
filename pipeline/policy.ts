import {
  allowsUnavailable,
  AVAILABILITY_FIX,
  delaysStop,
  leavesShutdownTime,
  PRODUCTION_SPREAD,
  topologyKeysOf,
} from '../config/availability-rules';
import { looksLikeCredential } from '../config/rules';
import { containerPathOf, filesOf, guaranteedQosProblems, imagePinProblem } from '../config/workload-rules';
import { isGuaranteed } from '../config/model';
import { ServiceConfig, TargetConfig } from '../config/types';
import { LABEL } from '../constructs/labels';
import { spreadPolicyOf } from '../config/availability-rules';
import { INGRESS_ANNOTATIONS } from '../constructs/public-ingress';
import { checkApiAccess } from './api-access-policy';
import { CLUSTER_SCOPED_KINDS, Manifest, Obj } from '../core/manifest';
import { checkNetworkPolicies } from './network-policy-check';
import { checkPlacement } from './placement-check';
import { foreignNamespaces } from '../core/namespaces';
import { checkRestricted, podTemplateOf } from './pod-security';

/** One broken rule in one synthesized object. */
export interface PolicyViolation {
  readonly rule: string;
  readonly target: string;
  readonly kind: string;
  readonly name: string;
  /** Path inside the object. */
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

/** cdk8s-plus-28's built-in container resources; they must never reach dist/ unconfigured. */
export const CDK8S_PLUS_DEFAULT_RESOURCES = {
  requests: { cpu: '1000m', memory: '512Mi' },
  limits: { cpu: '1500m', memory: '2048Mi' },
};

const PSA_MODES = ['enforce', 'audit', 'warn'];
/** Kinds that run a service's long-lived pods (and so need spread, a PDB, zero-downtime updates). */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Rollout']);
/** What production pods spread over, in this order (config/availability-rules.ts). */
const PRODUCTION_TOPOLOGY_KEYS = topologyKeysOf(PRODUCTION_SPREAD);

type Add = (rule: string, m: Manifest, field: string, message: string, fix: string) => void;

/**
 * The platform's policy, checked at synth over the objects about to be written. Every rule
 * reports every violation with the target, kind, name, field and the fix.
 */
export function checkPolicies(config: TargetConfig, manifests: readonly Manifest[]): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const add = (rule: string, m: Manifest, field: string, message: string, fix: string) =>
    violations.push({ rule, target: config.target, kind: m.kind, name: m.metadata.name, field, message, fix });

  const foreign = foreignNamespaces(config);
  // built on first use, once per target: the workload rules look up PDBs and PriorityClasses
  let pdbIndex: BudgetIndex | undefined;
  const budgets = () => (pdbIndex ??= indexBudgets(manifests));
  let priorityNames: Set<string> | undefined;
  const priorityClasses = () =>
    (priorityNames ??= new Set(manifests.filter((p) => p.kind === 'PriorityClass').map((p) => p.metadata.name)));
  for (const m of manifests) {
    const namespaced = !CLUSTER_SCOPED_KINDS.has(m.kind);
    const elsewhere = foreign.find((f) => f.namespace === m.metadata.namespace);
    if (namespaced && elsewhere && !elsewhere.kinds.includes(m.kind)) {
      add(
        'namespace-scope',
        m,
        'metadata.namespace',
        `is "${elsewhere.namespace}", where only ${elsewhere.kinds.join(', ')} may go (${elsewhere.why})`,
        `create the ${m.kind} in "${config.namespace}"`,
      );
    } else if (namespaced && !elsewhere && m.metadata.namespace !== config.namespace) {
      add(
        'namespace-scope',
        m,
        'metadata.namespace',
        `is ${JSON.stringify(m.metadata.namespace)}, expected "${config.namespace}"`,
        'create the object inside the target chart',
      );
    }
    if (!namespaced && m.metadata.namespace !== undefined) {
      add(
        'namespace-scope',
        m,
        'metadata.namespace',
        `a cluster-scoped ${m.kind} carries namespace "${m.metadata.namespace}"`,
        "create it in the chart's clusterScope",
      );
    }

    if (m.kind === 'Secret' && ((m as Obj).data || (m as Obj).stringData)) {
      add(
        'no-secret-data',
        m,
        (m as Obj).data ? 'data' : 'stringData',
        'a Secret with data would write secret values to dist/',
        "declare the value under the service's secrets so an ExternalSecret syncs it from the secret manager",
      );
    }

    if (m.kind === 'Namespace') {
      const labels = m.metadata.labels ?? {};
      for (const mode of PSA_MODES) {
        if (labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted') {
          add(
            'namespace-pod-security',
            m,
            `metadata.labels.pod-security.kubernetes.io/${mode}`,
            `is ${JSON.stringify(labels[`pod-security.kubernetes.io/${mode}`])}`,
            'set it to "restricted"',
          );
        }
        if (!/^v1\.[0-9]+$/.test(labels[`pod-security.kubernetes.io/${mode}-version`] ?? '')) {
          add(
            'namespace-pod-security',
            m,
            `metadata.labels.pod-security.kubernetes.io/${mode}-version`,
            'is not pinned to a version',
            `set it to "${config.podSecurity.version}"`,
          );
        }
      }
    }

    if (m.kind === 'Ingress') checkIngress(m, add);

    if (m.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries(((m as Obj).data ?? {}) as Record<string, string>)) {
        if (looksLikeCredential(key, value)) {
          add(
            'no-literal-credentials',
            m,
            `data.${key}`,
            'a credential-like entry is written to dist/ in plain text',
            "move it to the service's secrets (an ExternalSecret)",
          );
        }
      }
    }

    if (m.kind === 'ExternalSecret') {
      const ref = (m as Obj).spec?.secretStoreRef ?? {};
      if (ref.kind !== 'ClusterSecretStore' || ref.name !== config.secretStore.name) {
        add(
          'external-secret-store',
          m,
          'spec.secretStoreRef',
          `is ${JSON.stringify(ref)}, not the target's ClusterSecretStore "${config.secretStore.name}"`,
          `reference { kind: ClusterSecretStore, name: ${config.secretStore.name} } (secretStore.name of the environment)`,
        );
      } else if (!manifests.some((s) => s.kind === 'ClusterSecretStore' && s.metadata.name === ref.name)) {
        add(
          'external-secret-store',
          m,
          'spec.secretStoreRef.name',
          `ClusterSecretStore "${ref.name}" is not part of the target`,
          'keep the SecretStore construct in the chart',
        );
      }
    }

    const template = podTemplateOf(m);
    if (!template) continue;
    for (const finding of checkRestricted(template.spec, template.annotations)) {
      add(
        'pod-security-restricted',
        m,
        `${template.path}.${finding.field}`,
        finding.message,
        'set it in constructs/pod-template.ts; every field of the restricted profile is set explicitly there',
      );
    }
    const service = serviceOf(config, m);
    checkSecurityContext(template.spec, template.path, m, add);
    (template.spec.containers ?? []).forEach((c: Obj, i: number) => {
      const at = `${template.path}.containers[${i}]`;
      checkContainerResources(c, at, m, add);
      if (service && isGuaranteed(service)) checkGuaranteed(config, c, at, service, m, add);
      if (config.tier !== 'development') {
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          if (!c[probe])
            add(
              'probes',
              m,
              `${at}.${probe}`,
              `is missing; ${config.tier} requires readiness and liveness probes`,
              'add probes.readiness and probes.liveness to the service',
            );
        }
      }
      const distinct = livenessProblem(c);
      if (distinct)
        add(
          'probes',
          m,
          `${at}.livenessProbe`,
          distinct,
          "give the liveness probe another check than readiness (e.g. readiness asks the application, liveness only its port) and at least readiness's tolerance",
        );
      // the service's own container carries the service's probes and preStop delay; a sidecar its own probes
      const sidecar = service?.sidecars?.find((sc) => sc.name === c.name);
      const probes = sidecar ? sidecar.probes : service?.probes;
      const where = sidecar ? `sidecars.${sidecar.name}.probes` : 'probes';
      for (const [kind, probe] of [
        ['startup', 'startupProbe'],
        ['readiness', 'readinessProbe'],
        ['liveness', 'livenessProbe'],
      ] as const) {
        if (probes?.[kind] && !c[probe])
          add(
            'probes',
            m,
            `${at}.${probe}`,
            `is missing although the service configures ${where}.${kind}`,
            'render every configured probe in constructs/pod-template.ts',
          );
      }
      if (
        config.tier === 'production' &&
        WORKLOAD_KINDS.has(m.kind) &&
        !sidecar &&
        !delaysStop(preStopSecondsOf(c) ?? 1)
      ) {
        add(
          'graceful-shutdown',
          m,
          `${at}.lifecycle.preStop`,
          'is missing; production pods must keep serving while endpoints drop them',
          `${AVAILABILITY_FIX.preStopSeconds} in ${filesOf(config)}`,
        );
      }
      for (const env of c.env ?? []) {
        if (env.value !== undefined && looksLikeCredential(env.name, env.value)) {
          add(
            'no-literal-credentials',
            m,
            `${at}.env.${env.name}`,
            'a credential-like variable has a literal value',
            "move it to the service's secrets (an ExternalSecret)",
          );
        }
      }
      // the rule the configuration check applies to services.<name>.image (config/workload-rules.ts)
      const pin = imagePinProblem(String(c.image ?? ''), config.tier);
      if (pin) {
        const source = service && containerPathOf(service, c.name);
        add(
          'image-pinned',
          m,
          `${at}.image`,
          pin,
          source
            ? `set ${source}.image in ${filesOf(config)}`
            : `the image is not configured: pin it in the construct that builds ${m.kind}/${m.metadata.name}`,
        );
      }
    });

    if (!WORKLOAD_KINDS.has(m.kind)) continue;
    checkDisruptionBudget(m, template, budgets(), add);
    if (m.kind === 'StatefulSet') checkStatefulStorage(config, m, add);
    if (config.tier === 'production') checkProductionAvailability(config, service, m, template, priorityClasses(), add);
  }

  for (const kind of ['ResourceQuota', 'LimitRange']) {
    if (!manifests.some((m) => m.kind === kind)) {
      violations.push({
        rule: 'namespace-guards',
        target: config.target,
        kind,
        name: '(missing)',
        field: '',
        message: `the namespace has no ${kind}`,
        fix: 'keep TargetNamespace in the chart',
      });
    }
  }
  // a mounted token needs a binding; no wildcards or Secret reads in any Role
  for (const f of checkApiAccess(config, manifests)) add(f.rule, f.manifest, f.field, f.message, f.fix);
  // only allowed spot services tolerate the spot pool; every pod has an on-demand node; pinned pods select theirs
  for (const f of checkPlacement(config, manifests)) add(f.rule, f.manifest, f.field, f.message, f.fix);
  // default deny, no allow-all rule, no unjustified 0.0.0.0/0
  for (const f of checkNetworkPolicies(config, manifests)) {
    if (f.manifest) add(f.rule, f.manifest, f.field, f.message, f.fix);
    else
      violations.push({
        rule: f.rule,
        target: config.target,
        kind: 'NetworkPolicy',
        name: '(missing)',
        field: f.field,
        message: f.message,
        fix: f.fix,
      });
  }
  return violations;
}

function checkContainerResources(c: Obj, at: string, m: Manifest, add: Add): void {
  const r = c.resources ?? {};
  for (const kind of ['requests', 'limits']) {
    for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
      if (r[kind]?.[res] === undefined)
        add(
          'resources',
          m,
          `${at}.resources.${kind}.${res}`,
          'is not set',
          'configure resources.requests and resources.limits for the service (ephemeral-storage: set in constructs/pod-template.ts)',
        );
    }
  }
  const d = CDK8S_PLUS_DEFAULT_RESOURCES;
  if (
    r.requests?.cpu === d.requests.cpu &&
    r.requests?.memory === d.requests.memory &&
    r.limits?.cpu === d.limits.cpu &&
    r.limits?.memory === d.limits.memory
  ) {
    add(
      'resources',
      m,
      `${at}.resources`,
      "carries cdk8s-plus's built-in defaults (1000m/512Mi, 1500m/2048Mi), not the configuration",
      'set resources from the environment configuration',
    );
  }
}

/** The service whose workload a manifest is (by its `app.kubernetes.io/name` label), if any. */
function serviceOf(config: TargetConfig, m: Manifest): ServiceConfig | undefined {
  return config.services[m.metadata.labels?.[LABEL.name] ?? m.metadata.name];
}

/**
 * Why a container's liveness probe is no good beside its readiness probe, if it is not: it must
 * check something else (the same check restarts a pod that is merely slow or busy instead of taking
 * it out of rotation), and tolerate a failure at least as long (period × failures + timeout).
 */
export function livenessProblem(c: Obj): string | undefined {
  const live = c.livenessProbe;
  const ready = c.readinessProbe;
  if (!live || !ready) return undefined;
  const handler = (p: Obj) => JSON.stringify([p.httpGet, p.tcpSocket, p.grpc, p.exec]);
  if (handler(live) === handler(ready))
    return 'checks the same as the readiness probe; a slow container would be restarted instead of taken out of rotation';
  const tolerance = (p: Obj) => (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3) + (p.timeoutSeconds ?? 1);
  if (tolerance(live) < tolerance(ready))
    return `tolerates ${tolerance(live)}s of failure, less than the readiness probe's ${tolerance(ready)}s; the container would be restarted before it is taken out of rotation`;
  return undefined;
}

/** Lowest UID and GID a container may run as: below it lie the system users of images and nodes. */
export const MIN_ID = 10000;

/**
 * What the platform sets beyond the restricted profile: a read-only root filesystem with a
 * writable emptyDir at /tmp, and explicit UID, GID and fsGroup of MIN_ID or more.
 */
function checkSecurityContext(spec: Obj, path: string, m: Manifest, add: Add): void {
  const pod = spec.securityContext ?? {};
  const fix = "set it in constructs/pod-template.ts; every field of the pod's security context is set explicitly there";
  if (!(Number.isInteger(pod.fsGroup) && pod.fsGroup >= MIN_ID)) {
    add(
      'non-root-ids',
      m,
      `${path}.securityContext.fsGroup`,
      `is ${JSON.stringify(pod.fsGroup)}; volumes must be owned by a group of ${MIN_ID} or more`,
      fix,
    );
  }
  const volumes = new Map<string, Obj>((spec.volumes ?? []).map((v: Obj) => [v.name, v]));
  const containers: Array<[string, Obj]> = [
    ...(spec.initContainers ?? []).map((c: Obj, i: number) => [`initContainers[${i}]`, c] as [string, Obj]),
    ...(spec.containers ?? []).map((c: Obj, i: number) => [`containers[${i}]`, c] as [string, Obj]),
  ];
  for (const [name, c] of containers) {
    const at = `${path}.${name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) {
      add(
        'read-only-root',
        m,
        `${at}.securityContext.readOnlyRootFilesystem`,
        `is ${JSON.stringify(sc.readOnlyRootFilesystem)}; the root filesystem must be read-only`,
        fix,
      );
    }
    for (const id of ['runAsUser', 'runAsGroup'] as const) {
      const value = sc[id] ?? pod[id];
      if (!(Number.isInteger(value) && value >= MIN_ID)) {
        add(
          'non-root-ids',
          m,
          `${at}.securityContext.${id}`,
          `is ${JSON.stringify(value)} (on the container, or the pod when the container sets none); it must be ${MIN_ID} or more, outside the IDs of the image's and the node's system users`,
          'set services.<name>.runAsUser to 10000 or more, or leave the default 10001',
        );
      }
    }
    const tmp = (c.volumeMounts ?? []).find((vm: Obj) => vm.mountPath === '/tmp');
    if (!tmp || tmp.readOnly === true || !volumes.get(tmp.name)?.emptyDir) {
      add(
        'writable-tmp',
        m,
        `${at}.volumeMounts`,
        tmp
          ? `/tmp is mounted from "${tmp.name}", which is not a writable emptyDir`
          : 'mount nothing at /tmp; with a read-only root filesystem the process has nowhere to write',
        fix,
      );
    }
  }
}

/** What in a service's configuration asks for Guaranteed QoS, for the fix. */
function guaranteedBy(service: ServiceConfig): string {
  return service.qos === 'guaranteed'
    ? `services.${service.name}.qos is guaranteed`
    : `services.${service.name}.cpuPinning is true, which needs Guaranteed QoS`;
}

/**
 * Guaranteed QoS, as the service's configuration asks (services.<name>.qos or cpuPinning): the rule the
 * configuration check applies to services.<name>.resources (config/workload-rules.ts), applied to
 * what the constructs rendered, so that nothing on the way (development's requestScale) breaks it.
 */
function checkGuaranteed(
  config: TargetConfig,
  c: Obj,
  at: string,
  service: ServiceConfig,
  m: Manifest,
  add: Add,
): void {
  const source = containerPathOf(service, c.name);
  for (const problem of guaranteedQosProblems(c.resources ?? {}, c.name === service.name)) {
    const field = problem.field ? `${at}.resources.${problem.field}` : `${at}.resources`;
    const fix = source
      ? `set ${source}.resources${problem.field ? `.${problem.field}` : ''} in ${filesOf(config)} (${guaranteedBy(service)}); if the configuration already does, the construct changed it on the way (config/resources.ts must not scale a Guaranteed service's requests)`
      : `the container "${c.name}" is not configured: give it requests equal to limits in the construct that builds ${m.kind}/${m.metadata.name}, or make services.${service.name} burstable (neither qos: guaranteed nor cpuPinning)`;
    add('guaranteed-qos', m, field, problem.message, fix);
  }
}

/**
 * The preStop delay of a container in seconds (`sleep <seconds>`, as constructs/pod-template.ts
 * writes it, or a sleep action); 0 without a hook, undefined for a hook whose delay is not known.
 */
function preStopSecondsOf(c: Obj): number | undefined {
  const hook = c.lifecycle?.preStop;
  if (!hook) return 0;
  const seconds = Number(hook.exec?.command?.[0] === 'sleep' ? hook.exec.command[1] : hook.sleep?.seconds);
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** TLS with a cert-manager issued certificate, HTTPS forced, per-client rate limits, no snippets. */
function checkIngress(m: Manifest, add: Add): void {
  const spec = (m as Obj).spec ?? {};
  const annotations = m.metadata.annotations ?? {};
  const tls: Obj[] = spec.tls ?? [];
  const tlsHosts = new Set<string>(tls.flatMap((t) => t.hosts ?? []));
  for (const rule of spec.rules ?? []) {
    if (rule.host && !tlsHosts.has(rule.host))
      add(
        'ingress-tls',
        m,
        'spec.tls',
        `host ${rule.host} is served without TLS`,
        'add the host to spec.tls with a cert-manager issued secret',
      );
  }
  tls.forEach((t, i) => {
    if (!t.secretName)
      add(
        'ingress-tls',
        m,
        `spec.tls[${i}].secretName`,
        'is not set; cert-manager has nowhere to store the certificate',
        'name the TLS secret',
      );
  });
  if (!annotations[INGRESS_ANNOTATIONS.clusterIssuer] && !annotations['cert-manager.io/issuer']) {
    add(
      'ingress-cert-manager',
      m,
      `metadata.annotations.${INGRESS_ANNOTATIONS.clusterIssuer}`,
      'is not set; nothing issues or renews the TLS certificate',
      'set ingress.clusterIssuer of the environment',
    );
  }
  if (annotations[INGRESS_ANNOTATIONS.forceSslRedirect] !== 'true') {
    add(
      'ingress-https',
      m,
      `metadata.annotations.${INGRESS_ANNOTATIONS.forceSslRedirect}`,
      `is ${JSON.stringify(annotations[INGRESS_ANNOTATIONS.forceSslRedirect])}; plain HTTP must be redirected to HTTPS (HSTS comes from the controller's hsts settings)`,
      'set it to "true" (constructs/public-ingress.ts)',
    );
  }
  const limits = [
    INGRESS_ANNOTATIONS.limitRps,
    'nginx.ingress.kubernetes.io/limit-rpm',
    INGRESS_ANNOTATIONS.limitConnections,
  ];
  if (!limits.some((a) => /^[1-9][0-9]*$/.test(annotations[a] ?? ''))) {
    add(
      'ingress-rate-limit',
      m,
      `metadata.annotations.${INGRESS_ANNOTATIONS.limitRps}`,
      'no per-client rate limit is set (limit-rps, limit-rpm or limit-connections)',
      'set ingress.rateLimitRps of the environment',
    );
  }
  for (const key of Object.keys(annotations)) {
    if (key.startsWith('nginx.ingress.kubernetes.io/') && key.endsWith('-snippet')) {
      add(
        'ingress-no-snippets',
        m,
        `metadata.annotations.${key}`,
        'snippet annotations are refused by a stock ingress-nginx (allow-snippet-annotations is false since v1.9)',
        "use a dedicated annotation, or the controller's ConfigMap (HSTS: hsts, hsts-max-age, hsts-include-subdomains)",
      );
    }
  }
}

/**
 * PodDisruptionBudgets filed under one `namespace/key=value` of their selector's matchLabels, the
 * pair fewest PDBs share: a PDB that selects a pod has all its pairs among the pod's labels, so
 * looking up each of the pod's labels finds it, and among few others.
 */
type BudgetIndex = Map<string, Obj[]>;

function indexBudgets(manifests: readonly Manifest[]): BudgetIndex {
  const pdbs = (manifests as readonly Obj[]).filter((m) => m.kind === 'PodDisruptionBudget');
  const keysOf = (pdb: Obj) =>
    Object.entries(pdb.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${pdb.metadata.namespace}/${k}=${v}`);
  const shared = new Map<string, number>();
  for (const pdb of pdbs) for (const key of keysOf(pdb)) shared.set(key, (shared.get(key) ?? 0) + 1);
  const index: BudgetIndex = new Map();
  for (const pdb of pdbs) {
    const keys = keysOf(pdb);
    if (!keys.length) continue;
    const rarest = keys.reduce((a, b) => (shared.get(b)! < shared.get(a)! ? b : a));
    const bucket = index.get(rarest);
    if (bucket) bucket.push(pdb);
    else index.set(rarest, [pdb]);
  }
  return index;
}

/** A PodDisruptionBudget in the namespace whose selector picks the workload's pods. */
function checkDisruptionBudget(m: Manifest, template: { path: string }, budgets: BudgetIndex, add: Add): void {
  const podLabels: Record<string, string> = (m as Obj).spec?.template?.metadata?.labels ?? {};
  const selects = (pdb: Obj) => {
    const match: Record<string, string> = pdb.spec?.selector?.matchLabels ?? {};
    const keys = Object.keys(match);
    return (
      keys.length > 0 &&
      !(pdb.spec?.selector?.matchExpressions ?? []).length &&
      keys.every((k) => podLabels[k] === match[k])
    );
  };
  const candidates = Object.entries(podLabels).flatMap(
    ([k, v]) => budgets.get(`${m.metadata.namespace}/${k}=${v}`) ?? [],
  );
  if (!candidates.some(selects)) {
    add(
      'disruption-budget',
      m,
      `${template.path.replace(/\.spec$/, '')}.metadata.labels`,
      'no PodDisruptionBudget selects these pods; a node drain could take them all at once',
      'keep the DisruptionBudget construct in TradingService',
    );
  }
}

/** A StatefulSet keeps its data on claims of the environment's (encrypted) storage class. */
function checkStatefulStorage(config: TargetConfig, m: Manifest, add: Add): void {
  const claims: Obj[] = (m as Obj).spec?.volumeClaimTemplates ?? [];
  if (!claims.length) {
    add(
      'stateful-storage',
      m,
      'spec.volumeClaimTemplates',
      'is empty; a StatefulSet keeps its data on volume claims',
      'add storage to the service, or make it a deployment',
    );
  }
  claims.forEach((claim, i) => {
    if (claim.spec?.storageClassName !== config.storageClass) {
      add(
        'stateful-storage',
        m,
        `spec.volumeClaimTemplates[${i}].spec.storageClassName`,
        `is ${JSON.stringify(claim.spec?.storageClassName)}, not the environment's storage class "${config.storageClass}"`,
        'claim volumes on storageClass of the environment',
      );
    }
  });
}

/** Spread, zero-downtime rollouts, graceful shutdown and priority, for production workloads. */
function checkProductionAvailability(
  config: TargetConfig,
  service: ServiceConfig | undefined,
  m: Manifest,
  template: { spec: Obj; path: string },
  priorityClasses: ReadonlySet<string>,
  add: Add,
): void {
  const spec = template.spec;
  const podLabels: Record<string, string> = (m as Obj).spec?.template?.metadata?.labels ?? {};
  const constraints: Obj[] = spec.topologySpreadConstraints ?? [];
  for (const key of PRODUCTION_TOPOLOGY_KEYS) {
    const expected = service ? spreadPolicyOf(config, service, key) : undefined;
    const i = constraints.findIndex((c) => c.topologyKey === key);
    const at = `${template.path}.topologySpreadConstraints`;
    if (i < 0) {
      add(
        'spread',
        m,
        at,
        `production pods must spread over ${key}`,
        `${AVAILABILITY_FIX.spread} in ${filesOf(config)}`,
      );
      continue;
    }
    const c = constraints[i];
    if (expected && c.whenUnsatisfiable !== expected) {
      add(
        'spread',
        m,
        `${at}[${i}].whenUnsatisfiable`,
        `is ${JSON.stringify(c.whenUnsatisfiable)}; the service is configured for ${expected}`,
        `set services.${service!.name}.spreadPolicy or availability.zoneSpread in ${filesOf(config)}`,
      );
    }
    const match: Record<string, string> = c.labelSelector?.matchLabels ?? {};
    if (!Object.keys(match).length || !Object.entries(match).every(([k, v]) => podLabels[k] === v)) {
      add(
        'spread',
        m,
        `${at}[${i}].labelSelector`,
        "does not select the workload's own pods, so it spreads nothing",
        'select the pods by their selector labels',
      );
    }
  }

  const strategy = (m as Obj).spec?.strategy;
  if (m.kind === 'Deployment') {
    if (strategy?.type !== 'RollingUpdate') {
      add(
        'zero-downtime',
        m,
        'spec.strategy.type',
        `is ${JSON.stringify(strategy?.type)}; production rolls pods, never recreates them all`,
        `use a RollingUpdate strategy with availability.maxUnavailable of ${filesOf(config)} (constructs/workload.ts)`,
      );
    } else if (allowsUnavailable(strategy.rollingUpdate?.maxUnavailable ?? '25%')) {
      add(
        'zero-downtime',
        m,
        'spec.strategy.rollingUpdate.maxUnavailable',
        `is ${JSON.stringify(strategy.rollingUpdate?.maxUnavailable)}`,
        `${AVAILABILITY_FIX.maxUnavailable} in ${filesOf(config)}`,
      );
    }
  }

  const grace = spec.terminationGracePeriodSeconds;
  const preStop = Math.max(0, ...(spec.containers ?? []).map((c: Obj) => preStopSecondsOf(c) ?? 0));
  if (!leavesShutdownTime(grace, preStop)) {
    add(
      'graceful-shutdown',
      m,
      `${template.path}.terminationGracePeriodSeconds`,
      `is ${JSON.stringify(grace)}; it must leave time to shut down after the preStop delay (${preStop}s)`,
      `${AVAILABILITY_FIX.terminationGracePeriodSeconds} in ${filesOf(config)}`,
    );
  }

  const priority = spec.priorityClassName;
  if (!priority) {
    add(
      'priority-class',
      m,
      `${template.path}.priorityClassName`,
      'is not set; production pods must not be preempted by less important ones',
      `set services.${service?.name ?? m.metadata.name}.priority in ${filesOf(config)}`,
    );
  } else if (!priorityClasses.has(priority)) {
    add(
      'priority-class',
      m,
      `${template.path}.priorityClassName`,
      `"${priority}" is not a PriorityClass of the target`,
      `declare it under priorityClasses in ${filesOf(config)}${service ? `, or set services.${service.name}.priority to one that is` : ''}`,
    );
  }
}
