import { k8s } from 'cdk8s-plus-28';
import { ownValue } from '../config/model';
import { topologyKeysOf, ZONE_KEY } from '../config/availability-rules';
import { ProbeConfig, ProbesConfig, Resources, SecretRef, ServiceConfig, SidecarConfig, TargetConfig } from '../config/types';
import { serviceLabels, selectorLabels } from './labels';
import { effectiveResources, ephemeralStorageOf } from '../config/resources';

/** Default UID/GID of every container: non-root, outside the range of system users. */
export const DEFAULT_UID = 10001;

/** Name of the Secret an ExternalSecret materialises for a service. */
export const secretNameOf = (service: ServiceConfig) => `${service.name}-secrets`;
/** Name of a service's own ConfigMap. */
export const configNameOf = (service: ServiceConfig) => `${service.name}-config`;
/** The platform's feature-flag ConfigMap. */
export const FEATURE_FLAGS_CONFIGMAP = 'feature-flags';
/** Name of the persistent volume claim template of stateful services. */
export const DATA_VOLUME = 'data';

/**
 * Every secret a service's pods receive: its own `secrets`, its own `auth` credential (the server
 * side, e.g. redis's password) and the `auth` credential of each service it `dependsOn` (the
 * client side). One entry per env name, in that order (config/rules.ts refuses two different
 * secrets under one name).
 */
export function secretsOf(config: TargetConfig, service: ServiceConfig): SecretRef[] {
  const out = new Map<string, SecretRef>();
  const add = (s: SecretRef | undefined) => { if (s && !out.has(s.env)) out.set(s.env, s); };
  (service.secrets ?? []).forEach(add);
  add(service.auth);
  for (const dep of service.dependsOn ?? []) {
    if ('service' in dep) add(config.services[dep.service]?.auth);
  }
  return [...out.values()];
}

const secretEnv = (service: ServiceConfig, s: SecretRef): k8s.EnvVar => ({ name: s.env, valueFrom: { secretKeyRef: { name: secretNameOf(service), key: s.env } } });

/** Whether a service's pods mount the feature-flags ConfigMap: it owns a flag, or reads others'. */
export function readsFeatureFlags(config: TargetConfig, service: ServiceConfig): boolean {
  return service.featureFlags === true || Object.values(config.featureFlags).some((f) => f.owner === service.name);
}

export interface PodTemplateOptions {
  /** Whether the service talks to the Kubernetes API (mounts a token). */
  readonly mountServiceAccountToken: boolean;
  /** Whether an Argo Rollout (rather than a Deployment or StatefulSet) runs the pods. @default false */
  readonly rollout?: boolean;
}

/**
 * The label its controller gives each revision's pods, which topology spread's `matchLabelKeys`
 * uses to spread each revision on its own: `pod-template-hash` (Deployment's ReplicaSets),
 * `controller-revision-hash` (StatefulSet), `rollouts-pod-template-hash` (Argo Rollouts).
 */
export function revisionLabelOf(service: ServiceConfig, options: { readonly rollout?: boolean }): string {
  if (service.workload === 'statefulset') return 'controller-revision-hash';
  return options.rollout ? 'rollouts-pod-template-hash' : 'pod-template-hash';
}

/**
 * The pod template of a service. Everything the Pod Security "restricted" profile asks is set
 * explicitly here rather than inherited from a library default: non-root UID/GID, RuntimeDefault
 * seccomp, all capabilities dropped, no privilege escalation, a read-only root filesystem with a
 * writable emptyDir at /tmp. Resources come from the configuration only.
 */
export function podTemplate(config: TargetConfig, service: ServiceConfig, options: PodTemplateOptions): k8s.PodTemplateSpec {
  const uid = service.runAsUser ?? DEFAULT_UID;
  const volumes: k8s.Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }];
  const mounts: k8s.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (service.config && Object.keys(service.config).length) {
    volumes.push({ name: 'config', configMap: { name: configNameOf(service) } });
    mounts.push({ name: 'config', mountPath: `/etc/${service.name}`, readOnly: true });
  }
  if (readsFeatureFlags(config, service)) {
    // mounted as a volume (not env) so that changes reach the pod without a restart
    volumes.push({ name: 'feature-flags', configMap: { name: FEATURE_FLAGS_CONFIGMAP } });
    mounts.push({ name: 'feature-flags', mountPath: '/etc/feature-flags', readOnly: true });
  }
  if (service.storage) {
    mounts.push({ name: DATA_VOLUME, mountPath: service.storage.mountPath });
  }

  const env: k8s.EnvVar[] = [
    ...literalEnv(service.env),
    ...secretsOf(config, service).map((s) => secretEnv(service, s)),
  ];

  const spreadKeys = spreadKeysOf(config);

  // ports served by a sidecar leave the main container
  const sidecarPorts = new Set((service.sidecars ?? []).flatMap((sc) => sidecarPortsOf(service, sc).map((p) => p.name)));
  const container = containerOf(config, uid, {
    name: service.name,
    image: service.image,
    command: service.command,
    args: service.args,
    ports: service.ports.filter((p) => !sidecarPorts.has(p.name)),
    env,
    resources: effectiveResources(config, service),
    probes: service.probes,
    mounts,
    preStop: true,
  });
  const sidecars = (service.sidecars ?? []).map((sc) => {
    // each sidecar gets its own writable /tmp; its root filesystem stays read-only
    const tmp = `${sc.name}-tmp`;
    volumes.push({ name: tmp, emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } });
    return containerOf(config, uid, {
      name: sc.name,
      image: sc.image,
      command: sc.command,
      args: sc.args,
      ports: sidecarPortsOf(service, sc),
      // a sidecar of a service that demands a credential (an exporter) presents it too
      env: [...literalEnv(sc.env), ...(service.auth ? [secretEnv(service, service.auth)] : [])],
      resources: effectiveResources(config, service, sc.resources),
      probes: sc.probes ?? {},
      mounts: [{ name: tmp, mountPath: '/tmp' }],
      preStop: false,
    });
  });

  const priority = service.priority ? ownValue(config.priorityClasses, service.priority)?.name : undefined;
  return {
    metadata: { labels: serviceLabels(config, service) },
    spec: {
      serviceAccountName: service.name,
      automountServiceAccountToken: options.mountServiceAccountToken,
      enableServiceLinks: false,
      priorityClassName: priority,
      terminationGracePeriodSeconds: config.availability.terminationGracePeriodSeconds,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      topologySpreadConstraints: spreadKeys.length ? spreadKeys.map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: spreadPolicyOf(config, service, topologyKey),
        // a cordoned node (a drain, a node upgrade) carries the unschedulable taint: it is no longer
        // a place to spread to. Under the default (Ignore) a drained zone still counts with its
        // evicted pods missing, so a DoNotSchedule zone spread refuses every other zone and the
        // drained pods stay Pending (found by the live twin's Drain scenario, test/live)
        nodeTaintsPolicy: 'Honor',
        labelSelector: { matchLabels: selectorLabels(config, service) },
        // count only the pods of the same revision: during a rolling update or beside a blue/green
        // preview, the old revision's pods would otherwise skew where the new ones go
        matchLabelKeys: [revisionLabelOf(service, options)],
      })) : undefined,
      containers: [container, ...sidecars],
      volumes,
    },
  };
}

/** The topology keys pods spread over: none, zones, or zones then nodes (config/availability-rules.ts). */
export function spreadKeysOf(config: TargetConfig): string[] {
  return topologyKeysOf(config.availability.spread);
}

export { ZONE_KEY };

/**
 * How a service's pods spread over one topology key when they cannot spread evenly. A service's
 * `spreadPolicy` applies in production only (staging and development clusters are smaller); else
 * zones follow the environment's `availability.zoneSpread` (decided per environment, with its
 * reason), nodes spread best-effort (ScheduleAnyway).
 */
export function spreadPolicyOf(config: TargetConfig, service: ServiceConfig, topologyKey: string): 'DoNotSchedule' | 'ScheduleAnyway' {
  if (config.tier === 'production' && service.spreadPolicy) return service.spreadPolicy;
  return topologyKey === ZONE_KEY ? config.availability.zoneSpread?.whenUnsatisfiable ?? 'ScheduleAnyway' : 'ScheduleAnyway';
}

/** The service's ports a sidecar serves, by name or number (config/rules.ts checks they exist). */
export function sidecarPortsOf(service: ServiceConfig, sidecar: SidecarConfig): ServiceConfig['ports'] {
  return (sidecar.ports ?? []).flatMap((ref) => service.ports.filter((p) => p.name === ref || p.port === ref));
}

function literalEnv(env: Record<string, string> | undefined): k8s.EnvVar[] {
  return Object.entries(env ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value }));
}

interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly ports: ServiceConfig['ports'];
  readonly env: k8s.EnvVar[];
  readonly resources: Resources;
  readonly probes: ProbesConfig;
  readonly mounts: k8s.VolumeMount[];
  /** Whether the container waits `availability.preStopSeconds` before it is stopped. */
  readonly preStop: boolean;
}

/**
 * One container of a service's pod, the service's own or a sidecar: the same restricted security
 * context for both (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault
 * seccomp, read-only root filesystem), resources from the configuration, probes when configured.
 */
function containerOf(config: TargetConfig, uid: number, spec: ContainerSpec): k8s.Container {
  const { resources } = spec;
  const ephemeral = ephemeralStorageOf(config, resources);
  return {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: spec.command,
    args: spec.args,
    ports: spec.ports.length ? spec.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? 'TCP' })) : undefined,
    env: spec.env.length ? spec.env : undefined,
    resources: {
      requests: {
        'cpu': k8s.Quantity.fromString(resources.requests.cpu),
        'memory': k8s.Quantity.fromString(resources.requests.memory),
        'ephemeral-storage': k8s.Quantity.fromString(ephemeral.request),
      },
      limits: {
        'cpu': k8s.Quantity.fromString(resources.limits.cpu),
        'memory': k8s.Quantity.fromString(resources.limits.memory),
        'ephemeral-storage': k8s.Quantity.fromString(ephemeral.limit),
      },
    },
    startupProbe: probe(spec.probes.startup),
    readinessProbe: probe(spec.probes.readiness),
    livenessProbe: probe(spec.probes.liveness),
    lifecycle: spec.preStop && config.availability.preStopSeconds > 0
      // let endpoints and load balancers drop the pod before it stops accepting connections
      ? { preStop: { exec: { command: ['sleep', String(config.availability.preStopSeconds)] } } }
      : undefined,
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: spec.mounts,
  };
}

function probe(config: ProbeConfig | undefined): k8s.Probe | undefined {
  if (!config) return undefined;
  const port = (p: string | number) => (typeof p === 'number' ? k8s.IntOrString.fromNumber(p) : k8s.IntOrString.fromString(p));
  return {
    httpGet: config.http ? { path: config.http.path, port: port(config.http.port), scheme: 'HTTP' } : undefined,
    tcpSocket: config.tcp ? { port: port(config.tcp.port) } : undefined,
    grpc: config.grpc ? { port: config.grpc.port } : undefined,
    exec: config.exec ? { command: config.exec.command } : undefined,
    // 0 (the default) is left out: the Argo Rollouts controller rewrites a Rollout through Go types
    // in which an int32 0 is omitted (omitempty), so a written 0 is drift after every release
    initialDelaySeconds: config.initialDelaySeconds || undefined,
    periodSeconds: config.periodSeconds ?? 10,
    timeoutSeconds: config.timeoutSeconds ?? 1,
    failureThreshold: config.failureThreshold ?? 3,
    successThreshold: 1,
  };
}
