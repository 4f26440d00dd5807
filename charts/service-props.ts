/**
 * The one place that translates a target's configuration into the narrow props of the constructs
 * (names, labels, selectors, ports, peers, resources): the constructs never read the configuration,
 * so each can be built and tested alone; the charts call these functions.
 */
import { isScalingMetric, scalerOf, ScalingMetric } from '../config/autoscaling-rules';
import { analysisSignalOf } from '../config/delivery-rules';
import { HBONE_PORT, meshNamespacesOf, PROBE_SNAT_ADDRESS } from '../config/mesh-rules';
import { latencyHistogramOf, METRICS_PORT } from '../config/monitoring-rules';
import { promqlError, scopeSelectors } from '../core/promql';
import {
  DEFAULT_TRUST_DOMAIN,
  instanceOf,
  isAutoscaled,
  isBlueGreen,
  meshOf,
  ownValue,
  pinnedNodeSelectorOf,
  previewServiceNameOf,
  replicaRange,
  spotPoolOf,
} from '../config/model';
import { effectiveResources, ephemeralStorageOf } from '../config/resources';
import { ExternalPeer, PortConfig, Resources, SecretRef, ServiceConfig, TargetConfig } from '../config/types';
import { monitoringScope } from '../constructs/alert-rules';
import { kedaHpaNameOf } from '../constructs/autoscaling';
import { smokeTestNameOf, smokeTestSelector, smokeTestTargetOf } from '../constructs/blue-green';
import { MeshException, MeshGrant, principalOf, ServiceAuthorizationProps } from '../constructs/mesh';
import { selectorLabelsOf, serviceLabelsOf, sharedLabels, TargetLabels, versionOf } from '../constructs/labels';
import { flowPort, FlowPort, PeerRule, ServiceNetworkPolicyProps } from '../constructs/network-policies';
import { configNameOf, ContainerProps, secretNameOf, sidecarPortsOf } from '../constructs/pod-template';
import { serviceTopologyKeysOf, spreadPolicyOf } from '../config/availability-rules';
import { replicationOf, SENTINEL, SENTINEL_SCRIPTS_DIR, sentinelFactsOf } from '../config/replication';
import { sentinelScriptsNameOf, SentinelReplicationProps } from '../constructs/sentinel-replication';
import { collectorOf, POD_NAME_VARIABLE, samplingRatioOf } from '../config/tracing-rules';
import { publicPortOf } from '../constructs/public-ingress';
import { ServiceMonitoringProps } from '../constructs/monitoring';
import { RELOAD_SECRET_ANNOTATION, WorkloadProps, WorkloadRef } from '../constructs/workload';

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

/**
 * The selector labels of a service of a target, for the checks of pipeline/ that compare rendered
 * objects with the configuration.
 */
export function selectorLabels(config: TargetConfig, service: ServiceConfig): Record<string, string> {
  return selectorLabelsOf(service.name, instanceOf(config));
}

export function identityOf(config: TargetConfig, service: ServiceConfig): ServiceIdentity {
  return {
    name: service.name,
    labels: serviceLabels(config, service),
    selector: selectorLabelsOf(service.name, instanceOf(config)),
  };
}

/**
 * versionOf per service: every object of a service asks for it. Keyed by the service's
 * configuration object, so the entry dies with the configuration it was read from (one synthesis)
 * and a configuration loaded later, with another image, never reads it.
 */
const versions = new WeakMap<ServiceConfig, string>();

/** All labels of a service's objects and pods. */
export function serviceLabels(config: TargetConfig, service: ServiceConfig): Record<string, string> {
  let version = versions.get(service);
  if (version === undefined) versions.set(service, (version = versionOf(service)));
  return serviceLabelsOf({
    name: service.name,
    instance: instanceOf(config),
    version,
    component: service.component,
    platform: config.platform.name,
  });
}

/**
 * Every secret a service's pods receive: its own `secrets`, its own `auth` credential (the server
 * side, e.g. redis's password) and the `auth` credential of each service it `dependsOn` (the
 * client side). One entry per env name, in that order (config/rules.ts refuses two different
 * secrets under one name).
 */
export function secretsOf(config: TargetConfig, service: ServiceConfig): SecretRef[] {
  const out = new Map<string, SecretRef>();
  const add = (s: SecretRef | undefined) => {
    if (s && !out.has(s.env)) out.set(s.env, s);
  };
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
function containerResources(
  config: TargetConfig,
  service: ServiceConfig,
  resources: Resources = service.resources,
): Resources {
  const effective = effectiveResources(config, service, resources);
  const ephemeral = ephemeralStorageOf(config, effective);
  return {
    requests: { ...effective.requests, ephemeralStorage: ephemeral.request },
    limits: { ...effective.limits, ephemeralStorage: ephemeral.limit },
  };
}

/** What tracing adds to each container of a traced service: the pod's name, then the `OTEL_*` variables. */
export interface TracingEnv {
  readonly fieldEnv: ReadonlyArray<{ readonly name: string; readonly fieldPath: string }>;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The standard OpenTelemetry SDK variables of a traced service (the specification's "SDK
 * environment variables"), or undefined when it is not traced. Traces go over OTLP to the
 * collector, sampled parent-based by trace id (a callee keeps its caller's decision, so a trace
 * is whole or absent), propagated as W3C trace context and baggage. Metrics and logs stay where
 * they are (Prometheus scrapes, stdout): their OTLP exporters, on by default in the SDKs, are off.
 */
export function tracingEnvOf(config: TargetConfig, service: ServiceConfig): TracingEnv | undefined {
  const ratio = samplingRatioOf(config, service);
  const collector = collectorOf(config);
  if (ratio === undefined || !collector) return undefined;
  // values are DNS labels and label values already; encoded anyway, as the format (W3C baggage) asks
  const attribute = (key: string, value: string) => `${key}=${encodeURIComponent(value)}`;
  const attributes = [
    attribute('service.namespace', config.platform.name),
    attribute('service.version', versionOf(service)),
    // the semantic conventions' name since 1.27, and the older one most backends (Jaeger's UI) still read
    attribute('deployment.environment.name', config.environment),
    attribute('deployment.environment', config.environment),
    attribute('k8s.namespace.name', config.namespace),
    // expanded by the kubelet from the variable the downward API sets before this one
    `k8s.pod.name=$(${POD_NAME_VARIABLE})`,
    ...(config.region ? [attribute('cloud.region', config.region)] : []),
  ];
  return {
    fieldEnv: [{ name: POD_NAME_VARIABLE, fieldPath: 'metadata.name' }],
    env: {
      OTEL_SERVICE_NAME: service.name,
      OTEL_RESOURCE_ATTRIBUTES: attributes.join(','),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: collector.protocol,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(ratio),
      OTEL_PROPAGATORS: 'tracecontext,baggage',
    },
  };
}

/** The workload of a service: kind, replicas, pod template, storage and release, from its configuration and the target's. */
export function workloadPropsOf(
  config: TargetConfig,
  service: ServiceConfig,
  options: {
    readonly mountServiceAccountToken: boolean;
    readonly governingService: string;
  },
): WorkloadProps {
  const identity = identityOf(config, service);
  const secrets = secretsOf(config, service);
  // ports served by a sidecar leave the main container
  const sidecarPorts = new Set(
    (service.sidecars ?? []).flatMap((sc) => sidecarPortsOf(service, sc).map((p) => p.name)),
  );
  // every container of a traced service, sidecars too: a proxy or agent beside it reports as the service
  const tracing = tracingEnvOf(config, service);
  const withTracing = (env: Readonly<Record<string, string>> | undefined) =>
    tracing ? { ...env, ...tracing.env } : env;
  const container: ContainerProps = {
    name: service.name,
    image: service.image,
    command: service.command,
    args: service.args,
    ports: service.ports.filter((p) => !sidecarPorts.has(p.name)),
    fieldEnv: tracing?.fieldEnv,
    env: withTracing(service.env),
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
    fieldEnv: tracing?.fieldEnv,
    env: withTracing(sc.env),
    // a sidecar of a service that demands a credential (an exporter) presents it too
    secretEnv: service.auth ? [service.auth.env] : [],
    resources: containerResources(config, service, sc.resources),
    probes: sc.probes,
  }));
  const blueGreen = isBlueGreen(service) ? (service.release?.blueGreen ?? {}) : undefined;
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
      configMap:
        service.config && Object.keys(service.config).length
          ? { name: configNameOf(service), mountPath: `/etc/${service.name}` }
          : undefined,
      featureFlags: readsFeatureFlags(config, service),
      priorityClassName: service.priority ? ownValue(config.priorityClasses, service.priority)?.name : undefined,
      terminationGracePeriodSeconds: config.availability.terminationGracePeriodSeconds,
      preStopSeconds: config.availability.preStopSeconds,
      spot: service.placement === 'spot' ? spotPoolOf(config) : undefined,
      nodeSelector: service.cpuPinning ? pinnedNodeSelectorOf(config) : undefined,
      spread: serviceTopologyKeysOf(config.availability.spread, service).map((topologyKey) => ({
        topologyKey,
        whenUnsatisfiable: spreadPolicyOf(config, service, topologyKey),
      })),
      scripts: replicationOf(service, 'sentinel')
        ? { name: sentinelScriptsNameOf(service), mountPath: SENTINEL_SCRIPTS_DIR, sidecars: [SENTINEL] }
        : undefined,
    },
    blueGreen: blueGreen && {
      namespace: config.namespace,
      ports: service.ports,
      previewService: previewServiceNameOf(service),
      smokeTest: smokeTestTargetOf(service),
      scaleDownDelaySeconds: blueGreen.scaleDownDelaySeconds,
      // in the mesh the smoke test runs as an identity of its own, which the service's policy admits
      smokeTestServiceAccount: meshOf(config) ? smokeTestNameOf(service) : undefined,
      tunnelPorts: meshOf(config) ? [HBONE] : undefined,
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

/** The Sentinel set of a service in `replication.mode: sentinel`: its scripts and client Service. */
export function sentinelPropsOf(config: TargetConfig, service: ServiceConfig): SentinelReplicationProps {
  const identity = identityOf(config, service);
  const facts = sentinelFactsOf(service);
  return {
    name: service.name,
    labels: identity.labels,
    selector: identity.selector,
    namespace: config.namespace,
    headlessService: service.name,
    clientService: facts.clientService,
    replicas: facts.replicas,
    quorum: facts.quorum,
    masterName: facts.masterName,
    dataPort: facts.dataPort,
    sentinelPort: facts.sentinelPort,
    downAfterSeconds: facts.downAfterSeconds,
    authEnv: service.auth?.env,
  };
}

/**
 * What a service's HPA scales on: its resource metrics, and its Prometheus queries with every
 * selector scoped to the target's namespace and the service's job (as its custom alerts are; a
 * matcher the query sets itself wins), so one Prometheus serving several environments feeds each
 * ScaledObject its own series. Pods and external metrics are refused by config/autoscaling-rules.ts.
 */
export function scalingMetricsOf(config: TargetConfig, service: ServiceConfig): ScalingMetric[] | undefined {
  return service.autoscaling?.metrics
    .filter(isScalingMetric)
    .map((m) =>
      m.type === 'prometheus' && !promqlError(m.query)
        ? { ...m, query: scopeSelectors(m.query, { namespace: config.namespace, job: service.name }) }
        : m,
    );
}

/**
 * The ports the members of a group (a StatefulSet's `peers`) talk to each other on, both ways: the
 * peer port, and for a Sentinel set also the Sentinel port (votes, the master's address). Empty
 * when the service is no group. The NetworkPolicy and the mesh's AuthorizationPolicy both open them.
 */
function groupPortsOf(service: ServiceConfig): PortConfig[] {
  const peerPort =
    service.peers?.port === undefined
      ? undefined
      : service.ports.find((p) => p.name === service.peers!.port || p.port === service.peers!.port);
  if (!peerPort) return [];
  const sentinelPort = replicationOf(service, 'sentinel') && service.ports.find((p) => p.name === SENTINEL);
  return [peerPort, ...(sentinelPort ? [sentinelPort] : [])];
}

/** One edge of the service graph: a service calls another service or an external peer. */
export interface Flow {
  readonly from: ServiceConfig;
  readonly to: { readonly service: ServiceConfig } | { readonly external: ExternalPeer };
  readonly ports: FlowPort[];
}

/**
 * The service graph of a target, from `dependsOn`: one flow per caller and callee (service or
 * external peer), with the callee's ports by number. Dependencies were validated by
 * config/rules.ts; one that still does not resolve is skipped here, never guessed.
 */
export function flowsOf(config: TargetConfig): Flow[] {
  // every service's policy reads the whole graph: build it once per target
  let flows = graphs.get(config);
  if (!flows) {
    flows = buildFlows(config);
    graphs.set(config, flows);
  }
  return flows;
}

const graphs = new WeakMap<TargetConfig, Flow[]>();

/** The flows of a target by the service they come from and the service they go to. */
interface FlowIndex {
  readonly from: Map<string, Flow[]>;
  readonly to: Map<string, Flow[]>;
}

const indexes = new WeakMap<TargetConfig, FlowIndex>();

/** The flows out of and into one service, in the graph's order (each service's policy asks). */
export function flowsAround(
  config: TargetConfig,
  service: string,
): { readonly out: readonly Flow[]; readonly in: readonly Flow[] } {
  let index = indexes.get(config);
  if (!index) {
    index = { from: new Map(), to: new Map() };
    const push = (map: Map<string, Flow[]>, key: string, flow: Flow) => {
      const list = map.get(key);
      if (list) list.push(flow);
      else map.set(key, [flow]);
    };
    for (const flow of flowsOf(config)) {
      push(index.from, flow.from.name, flow);
      if ('service' in flow.to) push(index.to, flow.to.service.name, flow);
    }
    indexes.set(config, index);
  }
  return { out: index.from.get(service) ?? [], in: index.to.get(service) ?? [] };
}

function buildFlows(config: TargetConfig): Flow[] {
  const flows: Flow[] = [];
  for (const from of Object.values(config.services)) {
    const byPeer = new Map<string, { to: Flow['to']; ports: FlowPort[] }>();
    const add = (key: string, to: Flow['to'], ports: FlowPort[]) => {
      const entry = byPeer.get(key) ?? { to, ports: [] };
      for (const p of ports)
        if (!entry.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) entry.ports.push(p);
      byPeer.set(key, entry);
    };
    for (const dep of from.dependsOn ?? []) {
      if ('service' in dep) {
        const callee = ownValue(config.services, dep.service);
        const port = callee?.ports.find((p) => p.name === dep.port || p.port === dep.port);
        // a client of a Sentinel set asks Sentinel for the master before it talks to it
        const sentinel = callee && replicationOf(callee, 'sentinel') && callee.ports.find((p) => p.name === SENTINEL);
        if (callee && port && callee.name !== from.name)
          add(`service:${callee.name}`, { service: callee }, [
            flowPort(port),
            ...(sentinel ? [flowPort(sentinel)] : []),
          ]);
      } else {
        const peer = ownValue(config.externals, dep.external);
        if (!peer) continue;
        const ports = dep.ports ? peer.ports.filter((p) => dep.ports!.includes(p.port)) : peer.ports;
        add(`external:${peer.name}`, { external: peer }, ports.map(flowPort));
      }
    }
    for (const { to, ports } of byPeer.values()) flows.push({ from, to, ports });
  }
  return flows;
}

/** Labels of the Prometheus pods that scrape the targets (`monitoring.prometheusPodSelector`). */
export const prometheusPodLabels = (config: TargetConfig): Record<string, string> =>
  config.monitoring.prometheusPodSelector ?? { 'app.kubernetes.io/name': 'prometheus' };

/**
 * The NetworkPolicy of a service, from the service graph: ingress from each caller (its pods by
 * their selector labels), from the members of its own group on the peer port, from the ingress
 * controller's namespace when the service is public, from its blue/green smoke test, and from
 * Prometheus' pods (`monitoring.prometheusPodSelector` in its namespace) to the `metrics` port;
 * egress to the group's members, to each callee's pods and to each external peer's CIDRs.
 */
export function networkPolicyPropsOf(config: TargetConfig, service: ServiceConfig): ServiceNetworkPolicyProps {
  const identity = identityOf(config, service);
  const selectorOf = (s: ServiceConfig) => selectorLabelsOf(s.name, instanceOf(config));
  const flows = flowsAround(config, service.name);

  const ingress: PeerRule[] = [];
  for (const flow of flows.in) ingress.push({ peer: { pods: selectorOf(flow.from) }, ports: flow.ports });
  const peerPorts = groupPortsOf(service);
  if (peerPorts.length) ingress.push({ peer: { pods: identity.selector }, ports: peerPorts });
  if (service.expose === 'public')
    ingress.push({ peer: { namespace: config.ingress.controllerNamespace }, ports: [publicPortOf(service.ports)] });
  if (isBlueGreen(service)) {
    // the release's smoke test (constructs/blue-green.ts) reaches the preview pods through the preview Service
    ingress.push({
      peer: { pods: smokeTestSelector(identity.selector, service.name) },
      ports: [smokeTestTargetOf(service).port],
    });
  }
  const metrics = service.ports.find((p) => p.name === METRICS_PORT);
  // Prometheus' pods only: namespace and pod selector in one peer (both must match)
  if (metrics)
    ingress.push({
      peer: { namespace: config.monitoring.namespace, pods: prometheusPodLabels(config) },
      ports: [metrics],
    });

  const egress: PeerRule[] = [];
  if (peerPorts.length) egress.push({ peer: { pods: identity.selector }, ports: peerPorts });
  for (const flow of flows.out) {
    egress.push(
      'service' in flow.to
        ? { peer: { pods: selectorOf(flow.to.service) }, ports: flow.ports }
        : { peer: { cidrs: flow.to.external.cidrs }, ports: flow.ports },
    );
  }
  const tracing = tracingEgressOf(config, service);
  if (tracing) egress.push(tracing);
  return meshOf(config)
    ? { ...identity, ...withMeshPorts(service, ingress, egress, meshNamespacesOf(config)) }
    : { ...identity, ingress, egress };
}

/** Istio ambient's tunnel port as a NetworkPolicy port. */
const HBONE: PortConfig = { name: 'hbone', port: HBONE_PORT, protocol: 'TCP' };

/**
 * The NetworkPolicy rules of a service in the ambient mesh (Istio, "Ambient and Kubernetes
 * NetworkPolicy"): every connection between meshed pods travels as HBONE to port 15008 of the
 * callee's pod, so each rule whose other side is in the mesh (pods of `meshed`: this namespace,
 * Prometheus', the ingress controller's) also opens 15008 between the same pods; the declared ports
 * stay, so the policy still says what the flow is for. Address blocks (external peers) and pods of
 * other namespaces (a tracing collector's) are outside the mesh and unchanged. The kubelet's probes reach the pods from the address
 * ztunnel gives them (169.254.7.127), on the probe ports only.
 */
function withMeshPorts(
  service: ServiceConfig,
  ingress: readonly PeerRule[],
  egress: readonly PeerRule[],
  meshed: ReadonlySet<string>,
): { ingress: PeerRule[]; egress: PeerRule[] } {
  const tcp = (rule: PeerRule) => rule.ports.some((p) => (p.protocol ?? 'TCP') === 'TCP');
  const inMesh = (rule: PeerRule) =>
    !rule.peer.cidrs && (rule.peer.namespace === undefined || meshed.has(rule.peer.namespace));
  // ztunnel tunnels TCP only: a UDP flow keeps travelling as it is
  const tunnel = (rule: PeerRule): PeerRule =>
    !inMesh(rule) || !tcp(rule) ? rule : { ...rule, ports: [...rule.ports, HBONE] };
  const probes = probePortsOf(service);
  return {
    ingress: [
      ...ingress.map(tunnel),
      ...(probes.length ? [{ peer: { cidrs: [`${PROBE_SNAT_ADDRESS}/32`] }, ports: probes }] : []),
    ],
    egress: egress.map(tunnel),
  };
}

/** The ports the kubelet probes on a service's pods (HTTP, TCP and gRPC probes of every container), by number. */
export function probePortsOf(service: ServiceConfig): PortConfig[] {
  const all = [service.probes, ...(service.sidecars ?? []).map((sc) => sc.probes)].flatMap((probes) =>
    Object.values(probes ?? {}).flatMap((probe) =>
      probe ? [probe.http?.port, probe.tcp?.port, probe.grpc?.port] : [],
    ),
  );
  const ports: PortConfig[] = [];
  for (const ref of all) {
    if (ref === undefined) continue;
    const port = service.ports.find((p) => p.name === ref || p.port === ref) ?? {
      name: `probe-${ref}`,
      port: Number(ref),
    };
    if (!ports.some((p) => p.port === port.port)) ports.push(port);
  }
  return ports;
}

/** The SPIFFE identity of a ServiceAccount of the target's namespace, or of another namespace, in the target's mesh. */
function principal(config: TargetConfig, serviceAccount: string, namespace = config.namespace): string {
  return principalOf(meshOf(config)?.trustDomain ?? DEFAULT_TRUST_DOMAIN, namespace, serviceAccount);
}

/**
 * Who may call a service through the mesh, from the same graph as its NetworkPolicy: each caller's
 * identity (the ServiceAccount its pods run as, named after the service) on the ports it declared,
 * the members of its own group on the peer port; and, each in a policy of its own, the exceptions:
 * Prometheus on the `metrics` port, the ingress controller on the public port, and the blue/green
 * smoke test on the port it tests. Undefined when the target has no mesh.
 */
export function authorizationPropsOf(
  config: TargetConfig,
  service: ServiceConfig,
): ServiceAuthorizationProps | undefined {
  const mesh = meshOf(config);
  if (!mesh) return undefined;
  const identity = identityOf(config, service);
  // ztunnel carries TCP only; a UDP port is governed by the NetworkPolicy alone
  const tcp = (ports: readonly PortConfig[]) => ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  const callers: MeshGrant[] = flowsAround(config, service.name)
    .in.map((flow) => ({ principals: [principal(config, flow.from.name)], ports: tcp(flow.ports) }))
    .filter((grant) => grant.ports.length);
  const peerPorts = groupPortsOf(service);
  if (peerPorts.length) callers.push({ principals: [principal(config, service.name)], ports: peerPorts });
  const exceptions: MeshException[] = [];
  const metrics = service.ports.find((p) => p.name === METRICS_PORT);
  if (metrics)
    exceptions.push({
      name: 'prometheus-scrape',
      why: `Prometheus (ServiceAccount ${mesh.prometheusServiceAccount} in namespace ${config.monitoring.namespace}, mesh.prometheusServiceAccount) scrapes the ${METRICS_PORT} port`,
      principals: [principal(config, mesh.prometheusServiceAccount, config.monitoring.namespace)],
      ports: [metrics],
    });
  if (service.expose === 'public')
    exceptions.push({
      name: 'ingress-controller',
      why: `the ingress controller (ServiceAccount ${mesh.ingressServiceAccount} in namespace ${config.ingress.controllerNamespace}, mesh.ingressServiceAccount) forwards the public traffic of ${config.ingress.host}`,
      principals: [principal(config, mesh.ingressServiceAccount, config.ingress.controllerNamespace)],
      ports: [publicPortOf(service.ports)],
    });
  if (isBlueGreen(service))
    exceptions.push({
      name: 'smoke-test',
      why: `the blue/green release's smoke test (ServiceAccount ${smokeTestNameOf(service)}) checks the preview pods before promotion`,
      principals: [principal(config, smokeTestNameOf(service))],
      ports: [smokeTestTargetOf(service).port],
    });
  return { ...identity, callers, exceptions };
}

/**
 * The one flow tracing adds to a traced service's NetworkPolicy: egress to the collector on its
 * OTLP port only, to the collector's pods in their namespace (both selectors in one peer), or to
 * the CIDRs of the external peer that holds it.
 */
export function tracingEgressOf(config: TargetConfig, service: ServiceConfig): PeerRule | undefined {
  const collector = collectorOf(config);
  if (!collector || samplingRatioOf(config, service) === undefined) return undefined;
  const ports = [{ name: collector.protocol === 'grpc' ? 'otlp-grpc' : 'otlp-http', port: collector.port }];
  if (collector.inCluster)
    return { peer: { namespace: collector.inCluster.namespace, pods: { ...collector.inCluster.podSelector } }, ports };
  return { peer: { cidrs: collector.external!.cidrs }, ports };
}

/** The monitoring bundle of a service: what its rules and dashboard select on, and the labels Prometheus and Grafana pick them up by. */
export function monitoringPropsOf(
  config: TargetConfig,
  service: ServiceConfig,
  workload: WorkloadRef,
): ServiceMonitoringProps {
  const identity = identityOf(config, service);
  const { grafana } = config.monitoring;
  return {
    workload,
    scope: monitoringScope({
      service,
      namespace: config.namespace,
      region: config.region,
      thresholds: config.monitoring.thresholds,
      targetDownSeverity: config.monitoring.targetDownSeverity,
      scrapeInterval: config.monitoring.scrapeInterval,
      scraped: service.ports.some((p) => p.name === METRICS_PORT),
      autoscaled: isAutoscaled(service),
      workloadName: workload.name,
      hpaName: scalerOf(service) === 'keda' ? kedaHpaNameOf(workload.name) : workload.name,
      sentinel: replicationOf(service, 'sentinel')
        ? {
            replicas: sentinelFactsOf(service).replicas,
            quorum: sentinelFactsOf(service).quorum,
            sentinelContainer: SENTINEL,
            workloadName: workload.name,
          }
        : undefined,
    }),
    labels: { ...identity.labels, ...config.monitoring.selectorLabels },
    serviceSelector: identity.selector,
    runbookUrlPattern: config.monitoring.runbookUrlPattern,
    dashboard: {
      labels: { ...identity.labels, [grafana.dashboardLabel]: grafana.dashboardLabelValue },
      folder: grafana.folder,
      tags: [config.platform.name, config.environment, service.name],
    },
  };
}
