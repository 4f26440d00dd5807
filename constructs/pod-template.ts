import { k8s } from 'cdk8s-plus-28';
import { ProbeConfig, ServiceConfig, TargetConfig } from '../config/types';
import { serviceLabels, selectorLabels } from './labels';
import { effectiveResources } from './resources';

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

export interface PodTemplateOptions {
  /** Whether the service talks to the Kubernetes API (mounts a token). */
  readonly mountServiceAccountToken: boolean;
}

/**
 * The pod template of a service. Everything the Pod Security "restricted" profile asks is set
 * explicitly here rather than inherited from a library default: non-root UID/GID, RuntimeDefault
 * seccomp, all capabilities dropped, no privilege escalation, a read-only root filesystem with a
 * writable emptyDir at /tmp. Resources come from the configuration only.
 */
export function podTemplate(config: TargetConfig, service: ServiceConfig, options: PodTemplateOptions): k8s.PodTemplateSpec {
  const uid = service.runAsUser ?? DEFAULT_UID;
  const resources = effectiveResources(config, service);
  const volumes: k8s.Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } }];
  const mounts: k8s.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (service.config && Object.keys(service.config).length) {
    volumes.push({ name: 'config', configMap: { name: configNameOf(service) } });
    mounts.push({ name: 'config', mountPath: `/etc/${service.name}`, readOnly: true });
  }
  if (service.featureFlags) {
    // mounted as a volume (not env) so that changes reach the pod without a restart
    volumes.push({ name: 'feature-flags', configMap: { name: FEATURE_FLAGS_CONFIGMAP } });
    mounts.push({ name: 'feature-flags', mountPath: '/etc/feature-flags', readOnly: true });
  }
  if (service.storage) {
    mounts.push({ name: DATA_VOLUME, mountPath: service.storage.mountPath });
  }

  const env: k8s.EnvVar[] = [
    ...Object.entries(service.env ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    ...(service.secrets ?? []).map((s) => ({ name: s.env, valueFrom: { secretKeyRef: { name: secretNameOf(service), key: s.env } } })),
  ];

  const spreadKeys = spreadKeysOf(config);

  const container: k8s.Container = {
    name: service.name,
    image: service.image,
    imagePullPolicy: 'IfNotPresent',
    command: service.command,
    args: service.args,
    ports: service.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? 'TCP' })),
    env: env.length ? env : undefined,
    resources: {
      requests: { cpu: k8s.Quantity.fromString(resources.requests.cpu), memory: k8s.Quantity.fromString(resources.requests.memory) },
      limits: { cpu: k8s.Quantity.fromString(resources.limits.cpu), memory: k8s.Quantity.fromString(resources.limits.memory) },
    },
    startupProbe: probe(service.probes.startup),
    readinessProbe: probe(service.probes.readiness),
    livenessProbe: probe(service.probes.liveness),
    lifecycle: config.availability.preStopSeconds > 0
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
    volumeMounts: mounts,
  };

  const priority = service.priority ? config.priorityClasses[service.priority]?.name : undefined;
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
        whenUnsatisfiable: spreadPolicyOf(config, service),
        labelSelector: { matchLabels: selectorLabels(config, service) },
      })) : undefined,
      containers: [container],
      volumes,
    },
  };
}

/** The topology keys pods spread over: none, zones, or zones then nodes. */
export function spreadKeysOf(config: TargetConfig): string[] {
  return config.availability.spread === 'zones' ? ['topology.kubernetes.io/zone']
    : config.availability.spread === 'zones-and-nodes' ? ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'] : [];
}

/**
 * How a service's pods spread when they cannot spread evenly. A service's `spreadPolicy` applies in
 * production only: staging and development clusters are smaller, and PLATFORM.md has them spread
 * best-effort (ScheduleAnyway) so that a pod is never left pending for want of a zone.
 */
export function spreadPolicyOf(config: TargetConfig, service: ServiceConfig): 'DoNotSchedule' | 'ScheduleAnyway' {
  return config.tier === 'production' ? service.spreadPolicy ?? 'ScheduleAnyway' : 'ScheduleAnyway';
}

function probe(config: ProbeConfig | undefined): k8s.Probe | undefined {
  if (!config) return undefined;
  const port = (p: string | number) => (typeof p === 'number' ? k8s.IntOrString.fromNumber(p) : k8s.IntOrString.fromString(p));
  return {
    httpGet: config.http ? { path: config.http.path, port: port(config.http.port), scheme: 'HTTP' } : undefined,
    tcpSocket: config.tcp ? { port: port(config.tcp.port) } : undefined,
    grpc: config.grpc ? { port: config.grpc.port } : undefined,
    exec: config.exec ? { command: config.exec.command } : undefined,
    initialDelaySeconds: config.initialDelaySeconds ?? 0,
    periodSeconds: config.periodSeconds ?? 10,
    timeoutSeconds: config.timeoutSeconds ?? 1,
    failureThreshold: config.failureThreshold ?? 3,
    successThreshold: 1,
  };
}
