import { WIDEST_PREFIX, wideCidrs } from '../lib/cidr';
import { cpuMillis, memoryBytes } from '../lib/quantity';
import { ConfigIssue, formatPath, nearest, PathSegment, show } from './errors';
import { checkAutoscalingRules } from './autoscaling-rules';
import { checkAvailabilityRules } from './availability-rules';
import { checkDeliveryRules } from './delivery-rules';
import { checkMonitoringRules } from './monitoring-rules';
import { checkApiRules, checkNetworkRules } from './network-rules';
import { Dependency, Resources, ServiceConfig, TargetConfig } from './types';

type Locator = (p: PathSegment[], key?: boolean) => { file: string; line?: number; prefix: PathSegment[] };

/**
 * Names (environment variables, ConfigMap keys) that must never carry a literal value: the word
 * anywhere in the name for the unambiguous ones (PASSWORD, SECRET, TOKEN, API_KEY, ...), or as a
 * whole segment between `_`, `-` or `.` for the short ones (KEY, PASS, PWD; AUTH and COOKIE as the
 * last segment), so that JWT_SIGNING_KEY, HMAC_KEY, REDIS_PASS, PG_PWD and BASIC_AUTH are caught
 * while LEADER_ELECTION_LEASE, KEYSPACE, BYPASS_CACHE or AUTH_SERVICE_URL are not. A KEY segment followed by a segment that names where the key is
 * rather than the key (KEY_FILE, KEY_PATH, KEY_ID, KEY_PREFIX, KEY_NAME) is not a credential.
 */
export const CREDENTIAL_NAME = new RegExp([
  'PASSWORD', 'PASSWD', 'PASSPHRASE', 'SECRET', 'TOKEN', 'API_?KEY', 'PRIVATE_?KEY', 'CREDENTIAL', 'ACCESS_?KEY',
  'DSN', 'DATABASE_URL', 'CONNECTION_?STRING', 'WEBHOOK',
  '(^|[-_.])KEY($|[-_.](?!(FILE|PATH|ID|PREFIX|NAME|SUFFIX)($|[-_.])))',
  '(^|[-_.])(PASS|PWD)($|[-_.])',
  '(^|[-_.])(AUTH|COOKIE)$',
].join('|'), 'i');

/**
 * Names of connection URLs of a database, cache or message broker (POSTGRES_URL, REDIS_URI,
 * AMQP_URL): `scheme://user:password@host` carries the password in the URL itself.
 */
export const CONNECTION_URL_NAME = /(^|[-_.])(DB|DATABASE|POSTGRES|POSTGRESQL|PG|MYSQL|MARIADB|MSSQL|SQL|MONGO|MONGODB|REDIS|RABBITMQ|RABBIT|AMQP|AMQPS|MQ|BROKER|NATS|KAFKA)[-_.](.*[-_.])?(URL|URI|ADDR|ADDRESS|ENDPOINT)($|[-_.])/i;

/**
 * Whether a literal `name: value` (an env variable or a ConfigMap key) would write a credential to
 * dist/: a credential-like name, or a connection URL whose value is not a URL without user
 * information (`redis://redis:6379/0` passes, `postgres://app:pw@db/trading` does not, nor does
 * anything that cannot be read as a URL).
 */
export function looksLikeCredential(name: string, value?: string): boolean {
  if (CREDENTIAL_NAME.test(name)) return true;
  if (!CONNECTION_URL_NAME.test(name)) return false;
  return !/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+(\/[^@\s]*)?$/i.test(value ?? '');
}

/** Tags that are moved on purpose and so never pin anything. */
const FLOATING_TAGS = new Set(['latest', 'stable', 'main', 'master', 'edge', 'nightly', 'dev']);

/** An immutable release tag: a full semantic version (v1.2.3, 1.2.3-rc.1). */
export const IMMUTABLE_TAG = /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/;

export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImage(image: string): ImageRef {
  const [named, digest] = image.split('@');
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > slash ? named.slice(colon + 1) : undefined;
  const repository = colon > slash ? named.slice(0, colon) : named;
  return { repository, tag, digest };
}

/** The replica range of a service: fixed replicas give min = max. */
export function replicaRange(service: ServiceConfig): { min: number; max: number } {
  return typeof service.replicas === 'number' ? { min: service.replicas, max: service.replicas } : service.replicas;
}

/** True when an HPA scales the service (a range with min < max). */
export function isAutoscaled(service: ServiceConfig): boolean {
  const { min, max } = replicaRange(service);
  return min < max;
}

/**
 * Rules the schema cannot express: they relate several fields or several services.
 * Each issue says what was found and how to fix it.
 */
export function checkRules(config: TargetConfig, locate: Locator): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (p: PathSegment[], message: string, key = false) => {
    const where = locate(p, key);
    issues.push({ file: where.file, line: where.line, path: formatPath([...where.prefix, ...p]), message: `${message} (in target ${config.target})` });
  };

  for (const service of Object.values(config.services)) {
    const base = ['services', service.name];
    const range = replicaRange(service);

    if (typeof service.replicas !== 'number' && service.replicas.min > service.replicas.max) {
      at([...base, 'replicas', 'min'], `minReplicas (${service.replicas.min}) must be <= maxReplicas (${service.replicas.max}) for service "${service.name}"; lower min or raise max`);
    }
    if (isAutoscaled(service) && !service.autoscaling) {
      at([...base, 'replicas'], `is a range (${range.min}-${range.max}) but the service has no autoscaling.metrics; add autoscaling.metrics or use a fixed number`);
    }

    // ports: unique names and numbers
    const seenNames = new Map<string, number>();
    const seenNumbers = new Map<number, number>();
    service.ports.forEach((port, i) => {
      if (seenNames.has(port.name)) at([...base, 'ports', i, 'name'], `port name "${port.name}" is already used by ports[${seenNames.get(port.name)}]; port names must be unique per service`);
      if (seenNumbers.has(port.port)) at([...base, 'ports', i, 'port'], `port ${port.port} is already used by ports[${seenNumbers.get(port.port)}]; port numbers must be unique per service`);
      seenNames.set(port.name, i);
      seenNumbers.set(port.port, i);
    });

    checkImagePinned(config, service.image, [...base, 'image'], at);

    // resources: requests <= limits, Guaranteed QoS
    const { requests, limits } = service.resources;
    checkRequestsWithinLimits(service.resources, [...base, 'resources'], '', at);
    checkLimitRange(config, `service "${service.name}"`, service.resources, [...base, 'resources'], at);
    if (service.qos === 'guaranteed') {
      if (cpuMillis(requests.cpu) !== cpuMillis(limits.cpu) || memoryBytes(requests.memory) !== memoryBytes(limits.memory)) {
        at([...base, 'resources'], `Guaranteed QoS needs requests equal to limits (got requests ${show(requests)}, limits ${show(limits)})`);
      }
      if (cpuMillis(limits.cpu) % 1000 !== 0) {
        at([...base, 'resources', 'limits', 'cpu'], `Guaranteed QoS with exclusive cores needs whole CPUs; ${show(limits.cpu)} is fractional`);
      }
    }

    checkSidecars(config, service, base, at);

    if (service.priority && !config.priorityClasses[service.priority]) {
      at([...base, 'priority'], `${show(service.priority)} is not a declared priority class; declared: ${Object.keys(config.priorityClasses).join(', ') || 'none (add priorityClasses to the environment)'}`);
    }

    // probes are required from staging on
    if (config.tier !== 'development') {
      for (const probe of ['readiness', 'liveness'] as const) {
        if (!service.probes?.[probe]) {
          at([...base, 'probes'], `service "${service.name}" has no ${probe} probe; ${config.tier} requires readiness and liveness probes`);
        }
      }
    }
    for (const [kind, probe] of Object.entries(service.probes ?? {})) {
      if (!probe) continue;
      const handlers = ['http', 'tcp', 'grpc', 'exec'].filter((h) => (probe as Record<string, unknown>)[h]);
      if (handlers.length !== 1) {
        at([...base, 'probes', kind], `must have exactly one of http, tcp, grpc or exec (got ${handlers.length ? handlers.join(', ') : 'none'})`);
      }
      const port = probe.http?.port ?? probe.tcp?.port;
      if (typeof port === 'string' && !service.ports.some((p) => p.name === port)) {
        at([...base, 'probes', kind], `refers to port "${port}" which the service does not declare; declared: ${service.ports.map((p) => p.name).join(', ')}`);
      }
    }

    // literal env values and ConfigMap entries must not be credentials
    for (const [name, value] of Object.entries(service.env ?? {})) {
      if (looksLikeCredential(name, value)) {
        at([...base, 'env', name], `looks like a credential; literal values are written to dist/ in plain text. Move it to secrets: [{env: ${name}, remoteKey: ...}] so an ExternalSecret provides it`, true);
      }
    }
    for (const [name, value] of Object.entries(service.config ?? {})) {
      if (looksLikeCredential(name, value)) {
        at([...base, 'config', name], `looks like a credential; config entries are written to dist/ in plain text (the ConfigMap ${service.name}-config). Move it to secrets: [{env: ..., remoteKey: ...}] so an ExternalSecret provides it`, true);
      }
    }
    const envNames = new Set(Object.keys(service.env ?? {}));
    (service.secrets ?? []).forEach((secret, i) => {
      if (envNames.has(secret.env)) at([...base, 'secrets', i, 'env'], `"${secret.env}" is also set as a literal in env; keep one`);
    });

    if (service.release?.strategy === 'blueGreen' && service.workload !== 'deployment') {
      at([...base, 'release', 'strategy'], `blueGreen needs a deployment workload; "${service.name}" is a ${service.workload}`);
    }
    if (service.storage && service.workload !== 'statefulset') {
      at([...base, 'storage'], `persistent storage needs workload: statefulset ("${service.name}" is a ${service.workload})`);
    }
    if (service.peers && service.workload !== 'statefulset') {
      at([...base, 'peers'], `peers describes how the replicas of a StatefulSet find each other; "${service.name}" is a ${service.workload}, whose replicas are interchangeable. Set workload: statefulset or remove peers`);
    }
    const peerPort = service.peers?.port;
    if (peerPort !== undefined && !service.ports.some((cp) => cp.name === peerPort || cp.port === peerPort)) {
      at([...base, 'peers', 'port'], `${show(peerPort)} is not a port of "${service.name}"; its ports: ${service.ports.map((cp) => `${cp.name} (${cp.port})`).join(', ')}`);
    }

    (service.dependsOn ?? []).forEach((dep, i) => checkDependency(config, service, dep, [...base, 'dependsOn', i], at));
  }

  checkAvailabilityRules(config, at);
  checkMonitoringRules(config, at);
  checkDeliveryRules(config, at);
  checkAutoscalingRules(config, at);
  checkNetworkRules(config, at);
  checkApiRules(config, at);

  // no peer opens (nearly) the whole internet unless it says why (lib/cidr.ts, WIDEST_PREFIX)
  for (const peer of Object.values(config.externals)) {
    if (peer.reason) continue;
    for (const wide of wideCidrs(peer.cidrs)) {
      at(['externals', peer.name, 'cidrs', ...(wide.index === undefined ? [] : [wide.index])],
        `${wide.message}; narrow it to the peer's own ranges (each block /${WIDEST_PREFIX[4]} or narrower for IPv4, /${WIDEST_PREFIX[6]} or narrower for IPv6, at most one such block of public addresses in all) or add a "reason" to externals.${peer.name} saying why it is needed`);
    }
  }
  return issues;
}

type At = (p: PathSegment[], message: string, key?: boolean) => void;

/** Every container must fit the namespace's LimitRange `max`, or the API server rejects the pod. */
function checkLimitRange(config: TargetConfig, what: string, resources: ServiceConfig['resources'], p: PathSegment[], at: At): void {
  const max = config.limitRange.max;
  if (cpuMillis(resources.limits.cpu) > cpuMillis(max.cpu)) {
    at([...p, 'limits', 'cpu'], `${what}: limit ${show(resources.limits.cpu)} exceeds the LimitRange maximum per container ${show(max.cpu)} (limitRange.max.cpu); lower the limit or raise limitRange.max.cpu`);
  }
  if (memoryBytes(resources.limits.memory) > memoryBytes(max.memory)) {
    at([...p, 'limits', 'memory'], `${what}: limit ${show(resources.limits.memory)} exceeds the LimitRange maximum per container ${show(max.memory)} (limitRange.max.memory); lower the limit or raise limitRange.max.memory`);
  }
}

/** An image is pinned: a tag that does not move, and in production a digest or a full version. */
function checkImagePinned(config: TargetConfig, reference: string, path: PathSegment[], at: At): void {
  const image = parseImage(reference);
  if (!image.tag && !image.digest) {
    at(path, `${show(reference)} is not pinned; add a version tag (":1.4.2") or a digest ("@sha256:...")`);
  } else if (image.tag && FLOATING_TAGS.has(image.tag.toLowerCase()) && !image.digest) {
    at(path, `${show(reference)} uses the moving tag "${image.tag}"; pin a version tag (":1.4.2") or a digest ("@sha256:...")`);
  } else if (config.tier === 'production' && !image.digest && !IMMUTABLE_TAG.test(image.tag ?? '')) {
    at(path, `${show(reference)} is not immutable; production images need a digest ("@sha256:...") or a full version tag such as ":1.4.2"`);
  }
}

/** Each request is at most its limit; `what` prefixes the message (a sidecar names itself). */
function checkRequestsWithinLimits(resources: Resources, path: PathSegment[], what: string, at: At): void {
  const { requests, limits } = resources;
  if (cpuMillis(requests.cpu) > cpuMillis(limits.cpu)) {
    at([...path, 'requests', 'cpu'], `${what}request ${show(requests.cpu)} exceeds the limit ${show(limits.cpu)}; a request must be <= its limit`);
  }
  if (memoryBytes(requests.memory) > memoryBytes(limits.memory)) {
    at([...path, 'requests', 'memory'], `${what}request ${show(requests.memory)} exceeds the limit ${show(limits.memory)}; a request must be <= its limit`);
  }
}

/**
 * Sidecars: unique container names, pinned images, requests <= limits (equal for a
 * Guaranteed-QoS service: the pod is Guaranteed only if every container is), no credential
 * literals, probes from staging on, and ports that are the service's and served by one container.
 */
function checkSidecars(config: TargetConfig, service: ServiceConfig, base: PathSegment[], at: At): void {
  const names = new Map<string, number>();
  const served = new Map<string, string>();
  (service.sidecars ?? []).forEach((sc, i) => {
    const p = [...base, 'sidecars', i];
    const what = `sidecar "${sc.name}" of service "${service.name}"`;
    if (sc.name === service.name) at([...p, 'name'], `${show(sc.name)} is the name of the service's own container; give the sidecar another name`);
    if (names.has(sc.name)) at([...p, 'name'], `${show(sc.name)} is already used by sidecars[${names.get(sc.name)}]; container names must be unique in the pod`);
    names.set(sc.name, i);

    checkImagePinned(config, sc.image, [...p, 'image'], at);

    const { requests, limits } = sc.resources;
    checkRequestsWithinLimits(sc.resources, [...p, 'resources'], `${what}: `, at);
    if (service.qos === 'guaranteed' && (cpuMillis(requests.cpu) !== cpuMillis(limits.cpu) || memoryBytes(requests.memory) !== memoryBytes(limits.memory))) {
      at([...p, 'resources'], `${what}: Guaranteed QoS needs requests equal to limits in every container of the pod (got requests ${show(requests)}, limits ${show(limits)})`);
    }
    checkLimitRange(config, what, sc.resources, [...p, 'resources'], at);

    for (const [name, value] of Object.entries(sc.env ?? {})) {
      if (looksLikeCredential(name, value)) at([...p, 'env', name], `looks like a credential; literal values are written to dist/ in plain text. Move it to the service's secrets so an ExternalSecret provides it`, true);
    }
    if (config.tier !== 'development') {
      for (const probe of ['readiness', 'liveness'] as const) {
        if (!sc.probes?.[probe]) at([...p, 'probes'], `${what} has no ${probe} probe; ${config.tier} requires readiness and liveness probes in every container`);
      }
    }
    (sc.ports ?? []).forEach((ref, j) => {
      const port = service.ports.find((sp) => sp.name === ref || sp.port === ref);
      if (!port) {
        at([...p, 'ports', j], `${show(ref)} is not a port of "${service.name}"; a sidecar serves ports declared in the service's ports: ${service.ports.map((sp) => `${sp.name} (${sp.port})`).join(', ')}`);
      } else if (served.has(port.name)) {
        at([...p, 'ports', j], `port "${port.name}" is already served by sidecar "${served.get(port.name)}"; each port is served by one container`);
      } else {
        served.set(port.name, sc.name);
      }
    });
    for (const [kind, probe] of Object.entries(service.probes ?? {})) {
      const ref = probe?.http?.port ?? probe?.tcp?.port;
      const port = service.ports.find((sp) => sp.name === ref || sp.port === ref);
      if (port && (sc.ports ?? []).some((r) => r === port.name || r === port.port)) {
        at([...base, 'probes', kind], `probes port "${port.name}", which ${what} serves, not the service's container; probe a port of the service's own container`);
      }
    }
    for (const [kind, probe] of Object.entries(sc.probes ?? {})) {
      if (!probe) continue;
      const handlers = ['http', 'tcp', 'grpc', 'exec'].filter((h) => (probe as Record<string, unknown>)[h]);
      if (handlers.length !== 1) at([...p, 'probes', kind], `must have exactly one of http, tcp, grpc or exec (got ${handlers.length ? handlers.join(', ') : 'none'})`);
    }
  });
}

function checkDependency(config: TargetConfig, service: ServiceConfig, dep: Dependency, p: PathSegment[], at: (p: PathSegment[], m: string) => void): void {
  if ('service' in dep) {
    const callee = config.services[dep.service];
    if (!callee) {
      const known = [...Object.keys(config.services), ...Object.keys(config.externals).map((e) => `${e} (as external)`)];
      const suggestion = nearest(dep.service, Object.keys(config.services));
      at([...p, 'service'], `"${service.name}" depends on "${dep.service}", which is not a declared service; ${suggestion ? `did you mean "${suggestion}"? ` : ''}declared: ${known.join(', ')}. Declare it under services (or externals) or remove the dependency`);
      return;
    }
    if (callee.name === service.name) {
      at([...p, 'service'], `"${service.name}" depends on itself; traffic between a service's own pods is not part of the graph (NetworkPolicies deny it), so remove the dependency; replicas of a StatefulSet that form a group talk on peers.port`);
      return;
    }
    const port = callee.ports.find((cp) => cp.name === dep.port || cp.port === dep.port);
    if (!port) {
      at([...p, 'port'], `${show(dep.port)} is not a port of "${callee.name}"; its ports: ${callee.ports.map((cp) => `${cp.name} (${cp.port})`).join(', ')}`);
    }
  } else {
    const peer = config.externals[dep.external];
    if (!peer) {
      const suggestion = nearest(dep.external, Object.keys(config.externals));
      at([...p, 'external'], `"${service.name}" depends on the external peer "${dep.external}", which is not declared${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; declared externals: ${Object.keys(config.externals).join(', ') || 'none'}. Add it under externals with its CIDRs and ports`);
      return;
    }
    for (const port of dep.ports ?? []) {
      if (!peer.ports.some((pp) => pp.port === port)) {
        at([...p, 'ports'], `${port} is not a port of external "${peer.name}"; its ports: ${peer.ports.map((pp) => pp.port).join(', ')}`);
      }
    }
  }
}
