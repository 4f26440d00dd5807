/**
 * The one place that translates a target's configuration into the narrow props of the constructs
 * (names, labels, selectors, ports, peers, resources): the constructs never read the configuration,
 * so each can be built and tested alone; the charts call these functions.
 */
import { analysisSignalOf } from '../config/delivery-rules';
import { latencyHistogramOf } from '../config/monitoring-rules';
import { instanceOf, isBlueGreen, ownValue, previewServiceNameOf, replicaRange } from '../config/model';
import { effectiveResources, ephemeralStorageOf } from '../config/resources';
import { Resources, SecretRef, ServiceConfig, TargetConfig } from '../config/types';
import { smokeTestTargetOf } from '../constructs/blue-green';
import { serviceLabels, selectorLabelsOf, sharedLabels, TargetLabels } from '../constructs/labels';
import { configNameOf, ContainerProps, secretNameOf, sidecarPortsOf, spreadKeysOf, spreadPolicyOf } from '../constructs/pod-template';
import { RELOAD_SECRET_ANNOTATION, WorkloadProps } from '../constructs/workload';

/** What the labels of every object of a target are made of. */
export function targetLabelsOf(config: TargetConfig): TargetLabels {
  return { platform: config.platform.name, instance: instanceOf(config) };
}

/** Labels of the target's shared objects of one component (namespace, quota, policies that are not a service's). */
export function sharedLabelsOf(config: TargetConfig, component: string): Record<string, string> {
  return sharedLabels(targetLabelsOf(config), component);
}

/** The name, object labels and pod selector of one service. */
export interface ServiceIdentity {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly selector: Record<string, string>;
}

export function identityOf(config: TargetConfig, service: ServiceConfig): ServiceIdentity {
  return { name: service.name, labels: serviceLabels(config, service), selector: selectorLabelsOf(service.name, instanceOf(config)) };
}

export { serviceLabels };

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

/** Whether a service's pods mount the feature-flags ConfigMap: it owns a flag, or reads others'. */
export function readsFeatureFlags(config: TargetConfig, service: ServiceConfig): boolean {
  return service.featureFlags === true || Object.values(config.featureFlags).some((f) => f.owner === service.name);
}

/** Resources as a container of the target gets them: requests scaled, ephemeral storage from the LimitRange's defaults when not set. */
function containerResources(config: TargetConfig, service: ServiceConfig, resources: Resources = service.resources): Resources {
  const effective = effectiveResources(config, service, resources);
  const ephemeral = ephemeralStorageOf(config, effective);
  return {
    requests: { ...effective.requests, ephemeralStorage: ephemeral.request },
    limits: { ...effective.limits, ephemeralStorage: ephemeral.limit },
  };
}

/** The workload of a service: kind, replicas, pod template, storage and release, from its configuration and the target's. */
export function workloadPropsOf(config: TargetConfig, service: ServiceConfig, options: {
  readonly mountServiceAccountToken: boolean;
  readonly governingService: string;
}): WorkloadProps {
  const identity = identityOf(config, service);
  const secrets = secretsOf(config, service);
  // ports served by a sidecar leave the main container
  const sidecarPorts = new Set((service.sidecars ?? []).flatMap((sc) => sidecarPortsOf(service, sc).map((p) => p.name)));
  const container: ContainerProps = {
    name: service.name,
    image: service.image,
    command: service.command,
    args: service.args,
    ports: service.ports.filter((p) => !sidecarPorts.has(p.name)),
    env: service.env,
    secretEnv: secrets.map((s) => s.env),
    resources: containerResources(config, service),
    probes: service.probes,
  };
  const sidecars = (service.sidecars ?? []).map((sc): ContainerProps => ({
    name: sc.name,
    image: sc.image,
    command: sc.command,
    args: sc.args,
    ports: sidecarPortsOf(service, sc),
    env: sc.env,
    // a sidecar of a service that demands a credential (an exporter) presents it too
    secretEnv: service.auth ? [service.auth.env] : [],
    resources: containerResources(config, service, sc.resources),
    probes: sc.probes,
  }));
  const blueGreen = isBlueGreen(service) ? service.release?.blueGreen ?? {} : undefined;
  return {
    ...identity,
    annotations: secrets.length ? { [RELOAD_SECRET_ANNOTATION]: secretNameOf(service) } : undefined,
    replicas: replicaRange(service),
    governingService: options.governingService,
    kind: service.workload === 'statefulset' ? 'statefulset' : 'deployment',
    rollingUpdate: { maxSurge: config.availability.maxSurge, maxUnavailable: config.availability.maxUnavailable },
    storage: service.storage ? { ...service.storage, storageClass: config.storageClass } : undefined,
    startTogether: service.peers?.startTogether,
    pod: {
      serviceAccountName: service.name,
      mountServiceAccountToken: options.mountServiceAccountToken,
      container,
      sidecars,
      runAsUser: service.runAsUser,
      secretName: secretNameOf(service),
      configMap: service.config && Object.keys(service.config).length ? { name: configNameOf(service), mountPath: `/etc/${service.name}` } : undefined,
      featureFlags: readsFeatureFlags(config, service),
      priorityClassName: service.priority ? ownValue(config.priorityClasses, service.priority)?.name : undefined,
      terminationGracePeriodSeconds: config.availability.terminationGracePeriodSeconds,
      preStopSeconds: config.availability.preStopSeconds,
      spread: spreadKeysOf(config.availability.spread).map((topologyKey) => ({ topologyKey, whenUnsatisfiable: spreadPolicyOf(config, service, topologyKey) })),
    },
    blueGreen: blueGreen && {
      namespace: config.namespace,
      ports: service.ports,
      previewService: previewServiceNameOf(service),
      smokeTest: smokeTestTargetOf(service),
      scaleDownDelaySeconds: blueGreen.scaleDownDelaySeconds,
      analysis: {
        prometheusUrl: config.monitoring.prometheusUrl,
        signal: analysisSignalOf(service),
        successRate: blueGreen.successRate,
        latencyHistogram: latencyHistogramOf(service),
        latencyP99Seconds: blueGreen.latencyP99Seconds,
      },
    },
  };
}
