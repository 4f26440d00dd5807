import { listNames, PathSegment, show } from './errors';
import { ownValue } from './model';
import { ExternalPeer, ServiceConfig, TargetConfig, TracingConfig } from './types';

/** The OTLP transports and the port the OpenTelemetry Collector (and Jaeger) receives each on. */
export const OTLP_PORTS = { grpc: 4317, 'http/protobuf': 4318 } as const;
export type OtlpProtocol = keyof typeof OTLP_PORTS;

/** The protocol when `tracing.protocol` is left out: the OpenTelemetry SDKs' own default for OTLP. */
export const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'grpc';

/** The collector's pods when `tracing.collector.podSelector` is left out: the OpenTelemetry Collector Helm chart's label. */
export const DEFAULT_COLLECTOR_POD_SELECTOR: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'opentelemetry-collector',
};

/**
 * The variable the pod's name reaches the container in (the downward API), for
 * `OTEL_RESOURCE_ATTRIBUTES` to refer to as `$(...)`: the name the OpenTelemetry Operator's
 * injection uses for the same purpose.
 */
export const POD_NAME_VARIABLE = 'OTEL_RESOURCE_ATTRIBUTES_POD_NAME';

/** Every variable tracing writes into a traced container; a service must not set them itself. */
export const TRACING_VARIABLES: readonly string[] = [
  POD_NAME_VARIABLE,
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
];

/** Where spans go, resolved from `tracing.collector`: a URL, a port, and who receives them. */
export interface Collector {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: scheme, host and port (and a base path for http/protobuf). */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly port: number;
  /** An in-cluster collector: its namespace and the labels of its pods. */
  readonly inCluster?: { readonly namespace: string; readonly podSelector: Readonly<Record<string, string>> };
  /** A collector outside the cluster: the peer under `externals` whose CIDRs hold it. */
  readonly external?: ExternalPeer;
}

/** A parsed endpoint, or why it is not one. */
type Parsed =
  | { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }
  | { readonly problem: string };

const HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4 = /^([0-9]{1,3}\.){3}[0-9]{1,3}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENDPOINT_FORMS =
  '"<service>.<namespace>:<port>" for a collector in the cluster (e.g. "otel-collector.observability:4317"), or "https://host:port" for one outside it';

/**
 * `host[:port]` or `http(s)://host[:port][/path]`. A bare `host:port` is plain http (in the
 * cluster, encryption is the mesh's business); without a port, the protocol's (4317, 4318) for a
 * bare host and the scheme's (80, 443) for a URL, as the SDKs read it.
 */
export function parseEndpoint(text: string, protocol: OtlpProtocol): Parsed {
  if (text.includes('://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { problem: `${show(text)} is not a valid URL; write ${ENDPOINT_FORMS}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { problem: `${show(text)} has the scheme ${show(url.protocol.slice(0, -1))}; OTLP takes http or https` };
    if (url.username || url.password)
      return {
        problem: `${show(text)} carries user information; it would be written to dist/ in plain text. Give the collector's credentials through a secret, not in the endpoint`,
      };
    if (url.search || url.hash)
      return { problem: `${show(text)} has a query or fragment, which OTLP exporters ignore; remove it` };
    const host = url.hostname;
    if (!HOST.test(host) && !IPV4.test(host))
      return { problem: `${show(text)}: ${show(host)} is not a host name (lower-case DNS labels) or an IPv4 address` };
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
    return { scheme, host, port, path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '') };
  }
  const match = /^([^:/\s]+)(?::([0-9]{1,5}))?$/.exec(text);
  if (!match || (!HOST.test(match[1]) && !IPV4.test(match[1])))
    return { problem: `${show(text)} is not a host:port or a URL; write ${ENDPOINT_FORMS}` };
  const port = match[2] === undefined ? OTLP_PORTS[protocol] : Number(match[2]);
  if (port < 1 || port > 65535) return { problem: `${show(text)}: the port ${port} is not 1-65535` };
  return { scheme: 'http', host: match[1], port, path: '' };
}

/**
 * The namespace an in-cluster Service name names: `<service>.<namespace>`, `<service>.<namespace>.svc`
 * or `<service>.<namespace>.svc.<cluster domain>`; undefined for a bare `<service>`, and for
 * anything else (a host outside the cluster) `null`.
 */
function serviceNamespaceOf(host: string): string | undefined | null {
  const labels = host.split('.');
  if (labels.length === 1) return undefined;
  if (labels.length === 2 || labels[2] === 'svc')
    return labels.slice(0, 2).every((l) => DNS_LABEL.test(l)) ? labels[1] : null;
  return null;
}

/** Whether the target traces at all (`tracing.enabled`). */
export const tracingEnabled = (config: TargetConfig): config is TargetConfig & { tracing: TracingConfig } =>
  config.tracing?.enabled === true;

/** The protocol of the target's tracing. */
export const protocolOf = (tracing: TracingConfig): OtlpProtocol => tracing.protocol ?? DEFAULT_OTLP_PROTOCOL;

/**
 * The collector of a tracing target, resolved; undefined when tracing is off or the collector is
 * not valid (checkTracingRules has refused the configuration then, so synthesis never sees it).
 */
export function collectorOf(config: TargetConfig): Collector | undefined {
  if (!tracingEnabled(config) || !config.tracing.collector) return undefined;
  const { collector } = config.tracing;
  const protocol = protocolOf(config.tracing);
  const parsed = parseEndpoint(collector.endpoint, protocol);
  if ('problem' in parsed) return undefined;
  const url = `${parsed.scheme}://${parsed.host}:${parsed.port}${parsed.path}`;
  if (collector.external !== undefined) {
    const external = ownValue(config.externals, collector.external);
    return external ? { url, protocol, port: parsed.port, external } : undefined;
  }
  const namespace = serviceNamespaceOf(parsed.host);
  if (!namespace) return undefined;
  return {
    url,
    protocol,
    port: parsed.port,
    inCluster: { namespace, podSelector: collector.podSelector ?? DEFAULT_COLLECTOR_POD_SELECTOR },
  };
}

/**
 * The sampling ratio of a traced service (its own `tracing.samplingRatio`, else the
 * environment's); undefined when the service is not traced: the target does not trace, or the
 * service opts out (`tracing.enabled: false`).
 */
export function samplingRatioOf(config: TargetConfig, service: ServiceConfig): number | undefined {
  if (!tracingEnabled(config) || service.tracing?.enabled === false) return undefined;
  return service.tracing?.samplingRatio ?? config.tracing.samplingRatio;
}

/** A namespace to suggest for the target instead of its own: `<platform>-<environment>`, unless that is the one it has. */
function otherNamespace(config: TargetConfig): string {
  const suggested = `${config.platform.name}-${config.environment}`.slice(0, 63).replace(/-+$/, '');
  return suggested === config.namespace ? `${suggested.slice(0, 58).replace(/-+$/, '')}-apps` : suggested;
}

/**
 * Tracing rules the schema cannot express: an enabled tracing block names a collector and a
 * ratio; the endpoint is a host:port or URL whose port fits the protocol; an in-cluster collector
 * names its namespace (another than the target's: the default deny would cut it off there); an
 * outside one is a declared external peer, reached over https on one of its ports; and no traced
 * container sets an `OTEL_*` variable tracing writes.
 */
export function checkTracingRules(
  config: TargetConfig,
  at: (p: PathSegment[], message: string, key?: boolean) => void,
): void {
  const tracing = config.tracing;
  if (!tracing?.enabled) return;
  const protocol = protocolOf(tracing);
  if (tracing.samplingRatio === undefined) {
    at(
      ['tracing', 'enabled'],
      'tracing is enabled but has no samplingRatio; set tracing.samplingRatio to the ratio of root spans to keep, between 0 and 1 (e.g. 1 in staging, 0.05 in production)',
    );
  }
  const collector = tracing.collector;
  if (!collector) {
    at(
      ['tracing', 'enabled'],
      `tracing is enabled but names no collector; set tracing.collector.endpoint to ${ENDPOINT_FORMS}, or set tracing.enabled: false`,
    );
  } else {
    const p = ['tracing', 'collector', 'endpoint'];
    const parsed = parseEndpoint(collector.endpoint, protocol);
    if ('problem' in parsed) {
      at(p, parsed.problem);
    } else {
      checkPort(parsed, protocol, collector.endpoint, p, at);
      if (collector.external !== undefined) {
        checkExternalCollector(config, collector.external, parsed, collector.endpoint, at);
      } else {
        const namespace = serviceNamespaceOf(parsed.host);
        if (namespace === undefined) {
          at(
            p,
            `${show(collector.endpoint)} names no namespace, so the collector's namespace is unknown and no NetworkPolicy can admit its pods; write "<service>.<namespace>:<port>", e.g. "${parsed.host}.observability:${parsed.port}"`,
          );
        } else if (namespace === null) {
          at(
            p,
            `${show(collector.endpoint)} is not a Service in the cluster ("<service>.<namespace>", ".svc" or ".svc.<cluster domain>"); for a collector outside the cluster, declare it under externals (its CIDRs and ports) and set tracing.collector.external to that peer`,
          );
        } else if (namespace === config.namespace) {
          at(
            p,
            `${show(collector.endpoint)} is in the target's own namespace "${namespace}", where the default deny cuts off every pod that is not a service of the platform, and the target's quota and Pod Security "restricted" apply; the collector and the target each need a namespace of their own: point the endpoint at the collector in another namespace (e.g. "${parsed.host.split('.')[0]}.${namespace === 'observability' ? 'tracing' : 'observability'}:${parsed.port}"), or, when the collector already runs in "${namespace}", give the target another namespace (e.g. "${otherNamespace(config)}")`,
          );
        }
      }
    }
    if (collector.external !== undefined && collector.podSelector) {
      at(
        ['tracing', 'collector', 'podSelector'],
        `selects the pods of an in-cluster collector, but tracing.collector.external says it is outside the cluster (${show(collector.external)}); remove one of them`,
      );
    }
  }

  // the platform writes these variables; a service's own value would silently lose or win
  for (const service of Object.values(config.services)) {
    if (samplingRatioOf(config, service) === undefined) continue;
    const containers: Array<[PathSegment[], Readonly<Record<string, string>> | undefined]> = [
      [['services', service.name, 'env'], service.env],
      ...(service.sidecars ?? []).map((sc, i): [PathSegment[], Record<string, string> | undefined] => [
        ['services', service.name, 'sidecars', i, 'env'],
        sc.env,
      ]),
    ];
    for (const [p, env] of containers) {
      for (const name of Object.keys(env ?? {})) {
        if (!TRACING_VARIABLES.includes(name)) continue;
        at(
          [...p, name],
          `is written by tracing for every traced service (${TRACING_VARIABLES.join(', ')}); remove it, change tracing.* instead, or set services.${service.name}.tracing.enabled: false`,
          true,
        );
      }
    }
  }
}

function checkPort(
  parsed: { scheme: string; port: number; path: string },
  protocol: OtlpProtocol,
  endpoint: string,
  p: PathSegment[],
  at: (p: PathSegment[], message: string) => void,
): void {
  const other = (Object.keys(OTLP_PORTS) as OtlpProtocol[]).find((k) => k !== protocol)!;
  if (parsed.port === OTLP_PORTS[other]) {
    at(
      p,
      `${show(endpoint)} uses port ${parsed.port}, the OTLP port of ${other}, but tracing.protocol is ${protocol} (port ${OTLP_PORTS[protocol]}); the collector would refuse every export. Use port ${OTLP_PORTS[protocol]} or set tracing.protocol: ${other}`,
    );
  }
  if (protocol === 'grpc' && parsed.path) {
    at(
      p,
      `${show(endpoint)} has the path ${show(parsed.path)}, which OTLP over gRPC has no use for; remove it (only http/protobuf takes a base path)`,
    );
  }
  if (protocol === 'http/protobuf' && /\/v1\/traces$/.test(parsed.path)) {
    at(
      p,
      `${show(endpoint)} ends in /v1/traces, which the SDKs append to OTEL_EXPORTER_OTLP_ENDPOINT themselves (it would become .../v1/traces/v1/traces); give the base URL without it`,
    );
  }
}

function checkExternalCollector(
  config: TargetConfig,
  name: string,
  parsed: { scheme: string; port: number },
  endpoint: string,
  at: (p: PathSegment[], message: string) => void,
): void {
  const peer = ownValue(config.externals, name);
  if (!peer) {
    at(
      ['tracing', 'collector', 'external'],
      `${show(name)} is not a declared external peer; declared externals: ${listNames(Object.keys(config.externals)) || 'none'}. Declare the collector under externals with its CIDRs and ports`,
    );
    return;
  }
  if (!peer.ports.some((pp) => pp.port === parsed.port && (pp.protocol ?? 'TCP') === 'TCP')) {
    at(
      ['tracing', 'collector', 'endpoint'],
      `${show(endpoint)} uses port ${parsed.port}, which the external peer "${name}" does not declare (its ports: ${peer.ports.map((pp) => pp.port).join(', ')}); add it to externals.${name}.ports or change the endpoint`,
    );
  }
  if (parsed.scheme !== 'https') {
    at(
      ['tracing', 'collector', 'endpoint'],
      `${show(endpoint)} sends spans (request attributes, sometimes order ids) to a collector outside the cluster in clear text; use https://`,
    );
  }
}
