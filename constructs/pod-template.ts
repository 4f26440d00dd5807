import { k8s } from '../imports/k8s';
import {
  DEFAULT_EPHEMERAL_STORAGE,
  PortConfig,
  ProbeConfig,
  ProbesConfig,
  Resources,
  ServiceConfig,
  SidecarConfig,
} from '../config/types';

/** Default UID/GID of every container: non-root, outside the range of system users. */
export const DEFAULT_UID = 10001;

/** Name of the Secret an ExternalSecret materialises for a service. */
export const secretNameOf = (service: { readonly name: string }) => `${service.name}-secrets`;
/** Name of a service's own ConfigMap. */
export const configNameOf = (service: { readonly name: string }) => `${service.name}-config`;
/** The platform's feature-flag ConfigMap. */
export const FEATURE_FLAGS_CONFIGMAP = 'feature-flags';
/** Name of the persistent volume claim template of stateful services. */
export const DATA_VOLUME = 'data';

/** How pods spread over one topology key (a `topologySpreadConstraints` entry). */
export interface SpreadConstraint {
  readonly topologyKey: string;
  /** What the scheduler does when the pods cannot spread evenly. */
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
}

/** One container of a pod, the service's own or a sidecar. */
export interface ContainerProps {
  readonly name: string;
  /** A pinned image reference. */
  readonly image: string;
  /** @default - the image's entrypoint */
  readonly command?: string[];
  /** @default - the image's arguments */
  readonly args?: string[];
  /** The ports the container serves. @default none */
  readonly ports?: readonly PortConfig[];
  /** Plain, non-secret environment variables. @default none */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Environment variables read from the pod's Secret (`PodTemplateProps.secretName`), each from the
   * key of the same name, in this order. @default none
   */
  readonly secretEnv?: readonly string[];
  /**
   * Requests and limits, as they are to be written; ephemeral storage not given is
   * {@link DEFAULT_EPHEMERAL_STORAGE} (256Mi requested, 1Gi limit).
   */
  readonly resources: Resources;
  /** @default none */
  readonly probes?: ProbesConfig;
}

export interface PodTemplateProps {
  /** Labels of the pods. */
  readonly labels: Record<string, string>;
  /** Labels that select the pods (the topology spread counts the pods that carry them). */
  readonly selector: Record<string, string>;
  /** The ServiceAccount the pods run as. */
  readonly serviceAccountName: string;
  /** Mount a service-account token (only for pods that talk to the Kubernetes API). @default false */
  readonly mountServiceAccountToken?: boolean;
  /** The main container: it gets the config and feature-flag mounts, the data volume and the preStop delay. */
  readonly container: ContainerProps;
  /** Helper containers, each with its own writable /tmp. @default none */
  readonly sidecars?: readonly ContainerProps[];
  /** UID, GID and fsGroup of every container. @default DEFAULT_UID (10001) */
  readonly runAsUser?: number;
  /** The Secret `secretEnv` variables are read from. @default - `<serviceAccountName>-secrets` */
  readonly secretName?: string;
  /** A ConfigMap mounted read-only into the main container. @default - none */
  readonly configMap?: { readonly name: string; readonly mountPath: string };
  /** Mount the feature-flags ConfigMap at /etc/feature-flags (a volume: edits reach the pod without a restart). @default false */
  readonly featureFlags?: boolean;
  /** Where the main container mounts the `data` volume (a StatefulSet's claim). @default - no data volume */
  readonly dataMountPath?: string;
  /** @default - none (priority 0) */
  readonly priorityClassName?: string;
  /** @default - Kubernetes' 30 seconds */
  readonly terminationGracePeriodSeconds?: number;
  /** Seconds the main container waits (a preStop sleep) before it is stopped. @default 0 (no preStop hook) */
  readonly preStopSeconds?: number;
  /** How the pods spread over zones and nodes. @default - no topology spread */
  readonly spread?: readonly SpreadConstraint[];
  /**
   * The label its controller gives each revision's pods (`revisionLabelOf`): the spread counts only
   * the pods of the same revision. @default 'pod-template-hash' (a Deployment's)
   */
  readonly revisionLabel?: string;
}

/**
 * The label its controller gives each revision's pods, which topology spread's `matchLabelKeys`
 * uses to spread each revision on its own: `pod-template-hash` (Deployment's ReplicaSets),
 * `controller-revision-hash` (StatefulSet), `rollouts-pod-template-hash` (Argo Rollouts).
 */
export function revisionLabelOf(kind: 'deployment' | 'statefulset' | 'rollout'): string {
  if (kind === 'statefulset') return 'controller-revision-hash';
  return kind === 'rollout' ? 'rollouts-pod-template-hash' : 'pod-template-hash';
}

/**
 * The pod template of a service. Everything the Pod Security "restricted" profile asks is set
 * explicitly here rather than inherited from a library default: non-root UID/GID, RuntimeDefault
 * seccomp, all capabilities dropped, no privilege escalation, a read-only root filesystem with a
 * writable emptyDir at /tmp. Resources are those given, never a library's.
 */
export function podTemplate(props: PodTemplateProps): k8s.PodTemplateSpec {
  const uid = props.runAsUser ?? DEFAULT_UID;
  const main = props.container;
  const secretName = props.secretName ?? `${props.serviceAccountName}-secrets`;
  const volumes: k8s.Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }];
  const mounts: k8s.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (props.configMap) {
    volumes.push({ name: 'config', configMap: { name: props.configMap.name } });
    mounts.push({ name: 'config', mountPath: props.configMap.mountPath, readOnly: true });
  }
  if (props.featureFlags) {
    // mounted as a volume (not env) so that changes reach the pod without a restart
    volumes.push({ name: 'feature-flags', configMap: { name: FEATURE_FLAGS_CONFIGMAP } });
    mounts.push({ name: 'feature-flags', mountPath: '/etc/feature-flags', readOnly: true });
  }
  if (props.dataMountPath !== undefined) {
    mounts.push({ name: DATA_VOLUME, mountPath: props.dataMountPath });
  }

  const envOf = (c: ContainerProps): k8s.EnvVar[] => [
    ...literalEnv(c.env),
    ...(c.secretEnv ?? []).map((name) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: name } } })),
  ];

  const container = containerOf(uid, main, envOf(main), mounts, props.preStopSeconds ?? 0);
  const sidecars = (props.sidecars ?? []).map((sc) => {
    // each sidecar gets its own writable /tmp; its root filesystem stays read-only
    const tmp = `${sc.name}-tmp`;
    volumes.push({ name: tmp, emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } });
    return containerOf(uid, sc, envOf(sc), [{ name: tmp, mountPath: '/tmp' }], 0);
  });

  const spread = props.spread ?? [];
  return {
    metadata: { labels: props.labels },
    spec: {
      serviceAccountName: props.serviceAccountName,
      automountServiceAccountToken: props.mountServiceAccountToken ?? false,
      enableServiceLinks: false,
      priorityClassName: props.priorityClassName,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      topologySpreadConstraints: spread.length
        ? spread.map((c) => ({
            maxSkew: 1,
            topologyKey: c.topologyKey,
            whenUnsatisfiable: c.whenUnsatisfiable,
            // a cordoned node (a drain, a node upgrade) carries the unschedulable taint: it is no longer
            // a place to spread to. Under the default (Ignore) a drained zone still counts with its
            // evicted pods missing, so a DoNotSchedule zone spread refuses every other zone and the
            // drained pods stay Pending (found by the live twin's Drain scenario, test/live)
            nodeTaintsPolicy: 'Honor',
            labelSelector: { matchLabels: props.selector },
            // count only the pods of the same revision: during a rolling update or beside a blue/green
            // preview, the old revision's pods would otherwise skew where the new ones go
            matchLabelKeys: [props.revisionLabel ?? revisionLabelOf('deployment')],
          }))
        : undefined,
      containers: [container, ...sidecars],
      volumes,
    },
  };
}

/** The service's ports a sidecar serves, by name or number (config/rules.ts checks they exist). */
export function sidecarPortsOf(
  service: Pick<ServiceConfig, 'ports'>,
  sidecar: Pick<SidecarConfig, 'ports'>,
): PortConfig[] {
  return (sidecar.ports ?? []).flatMap((ref) => service.ports.filter((p) => p.name === ref || p.port === ref));
}

function literalEnv(env: Record<string, string> | undefined): k8s.EnvVar[] {
  return Object.entries(env ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

/**
 * One container of a service's pod, the service's own or a sidecar: the same restricted security
 * context for both (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault
 * seccomp, read-only root filesystem), the resources given, probes when given.
 */
function containerOf(
  uid: number,
  spec: ContainerProps,
  env: k8s.EnvVar[],
  mounts: k8s.VolumeMount[],
  preStopSeconds: number,
): k8s.Container {
  const { resources } = spec;
  const ports = spec.ports ?? [];
  const probes = spec.probes ?? {};
  return {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: spec.command,
    args: spec.args,
    ports: ports.length
      ? ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? 'TCP' }))
      : undefined,
    env: env.length ? env : undefined,
    resources: {
      requests: {
        cpu: k8s.Quantity.fromString(resources.requests.cpu),
        memory: k8s.Quantity.fromString(resources.requests.memory),
        'ephemeral-storage': k8s.Quantity.fromString(
          resources.requests.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.request,
        ),
      },
      limits: {
        cpu: k8s.Quantity.fromString(resources.limits.cpu),
        memory: k8s.Quantity.fromString(resources.limits.memory),
        'ephemeral-storage': k8s.Quantity.fromString(
          resources.limits.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.limit,
        ),
      },
    },
    startupProbe: probe(probes.startup),
    readinessProbe: probe(probes.readiness),
    livenessProbe: probe(probes.liveness),
    lifecycle:
      preStopSeconds > 0
        ? // let endpoints and load balancers drop the pod before it stops accepting connections
          { preStop: { exec: { command: ['sleep', String(preStopSeconds)] } } }
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
    volumeMounts: mounts,
  };
}

function probe(config: ProbeConfig | undefined): k8s.Probe | undefined {
  if (!config) return undefined;
  const port = (p: string | number) =>
    typeof p === 'number' ? k8s.IntOrString.fromNumber(p) : k8s.IntOrString.fromString(p);
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
