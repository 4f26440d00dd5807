import { WIDEST_PREFIX, wideCidrs } from '../core/cidr';
import { followsNameRule, isLabelValue, LABEL_VALUE_RULE, MAX_LABEL, NAME_RULES } from '../core/k8s-names';
import { cpuMillis, memoryBytes } from '../core/quantity';
import { ConfigIssue, formatPath, listNames, nearest, PathSegment, show } from './errors';
import { checkAutoscalingRules } from './autoscaling-rules';
import { checkAvailabilityRules } from './availability-rules';
import { checkBackupRules } from './backup-rules';
import { checkDeliveryRules } from './delivery-rules';
import { checkMeshRules } from './mesh-rules';
import { checkNamespaceRules } from './namespace-rules';
import { checkMonitoringRules } from './monitoring-rules';
import { isReason } from '../core/reason';
import { looksLikeCredential } from './credential-names';
import { checkApiRules, checkEgressUnion, checkNetworkRules } from './network-rules';
import {
  instanceOf,
  isAutoscaled,
  isBlueGreen,
  isStateful,
  isGuaranteed,
  ownValue,
  previewServiceNameOf,
  replicaRange,
  SMOKE_TEST_SUFFIX,
  versionOf,
} from './model';
import { providerProblems } from './provider-rules';
import { checkNodeRules } from './node-rules';
import { checkTracingRules } from './tracing-rules';
import { checkPlacementRules } from './placement-rules';
import { DEFAULT_EPHEMERAL_STORAGE, Dependency, Resources, ServiceConfig, TargetConfig } from './types';
import { guaranteedQosProblems, imagePinProblem } from './workload-rules';

type Locator = (p: PathSegment[], key?: boolean) => { file: string; line?: number; prefix: PathSegment[] };

// the name-based first line against literal credentials (config/credential-names.ts)
export { CONNECTION_URL_NAME, CREDENTIAL_NAME, looksLikeCredential } from './credential-names';

/**
 * Rules the schema cannot express: they relate several fields or several services.
 * Each issue says what was found and how to fix it.
 */
/** The longest name of a StatefulSet whose pods can be labelled: 63, less "-" and a revision hash of 10. */
const MAX_STATEFUL_NAME = MAX_LABEL - 11;

export function checkRules(config: TargetConfig, locate: Locator): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (p: PathSegment[], message: string, key = false) => {
    const where = locate(p, key);
    issues.push({
      file: where.file,
      line: where.line,
      path: formatPath([...where.prefix, ...p]),
      message: `${message} (in target ${config.target})`,
    });
  };

  // names the API server limits, derived from configured names (pipeline/api-server-check.ts checks
  // every rendered object again)
  const instance = instanceOf(config);
  if (!isLabelValue(instance)) {
    issues.push({
      file: config.sources[config.sources.length - 1],
      path: '',
      message: `the instance label "${instance.length > 80 ? `${instance.slice(0, 77)}...` : instance}" (platform.name "${config.platform.name}", "-", the environment "${config.environment}") is ${instance.length} characters; a label value may have at most ${MAX_LABEL}: shorten the environment file name or platform.name (in target ${config.target})`,
    });
  }
  for (const service of Object.values(config.services)) {
    const base = ['services', service.name];
    const range = replicaRange(service);
    if (isBlueGreen(service) && !followsNameRule(previewServiceNameOf(service), 'dns1035-label')) {
      at(
        [...base, 'release', 'strategy'],
        `the blue/green preview Service "${previewServiceNameOf(service)}" would be ${previewServiceNameOf(service).length} characters; a Service name is ${NAME_RULES['dns1035-label']}: shorten the service name to at most ${MAX_LABEL - '-preview'.length} characters`,
      );
    } else if (isBlueGreen(service) && !isLabelValue(`${service.name}${SMOKE_TEST_SUFFIX}`)) {
      at(
        [...base, 'release', 'strategy'],
        `the blue/green smoke test's pods are labelled "${service.name}${SMOKE_TEST_SUFFIX}" (${service.name.length + SMOKE_TEST_SUFFIX.length} characters); a label value may have at most ${MAX_LABEL}: shorten the service name to at most ${MAX_LABEL - SMOKE_TEST_SUFFIX.length} characters`,
      );
    }

    // a StatefulSet labels its pods controller-revision-hash=<name>-<hash of up to 10 characters>
    if (isStateful(service) && service.name.length > MAX_STATEFUL_NAME) {
      at(
        [...base],
        `a StatefulSet named "${service.name}" (${service.name.length} characters) never creates a pod: its pods carry the label controller-revision-hash "<name>-<hash>", and a label value may have at most ${MAX_LABEL} characters; shorten the service name to at most ${MAX_STATEFUL_NAME} characters`,
        true,
      );
    }

    if (typeof service.replicas !== 'number' && service.replicas.min > service.replicas.max) {
      at(
        [...base, 'replicas', 'min'],
        `minReplicas (${service.replicas.min}) must be <= maxReplicas (${service.replicas.max}) for service "${service.name}"; lower min or raise max`,
      );
    }
    if (isAutoscaled(service) && !service.autoscaling) {
      at(
        [...base, 'replicas'],
        `is a range (${range.min}-${range.max}) but the service has no autoscaling.metrics; add autoscaling.metrics or use a fixed number`,
      );
    }

    // ports: unique names and numbers
    const seenNames = new Map<string, number>();
    const seenNumbers = new Map<number, number>();
    service.ports.forEach((port, i) => {
      if (seenNames.has(port.name))
        at(
          [...base, 'ports', i, 'name'],
          `port name "${port.name}" is already used by ports[${seenNames.get(port.name)}]; port names must be unique per service`,
        );
      if (seenNumbers.has(port.port))
        at(
          [...base, 'ports', i, 'port'],
          `port ${port.port} is already used by ports[${seenNumbers.get(port.port)}]; port numbers must be unique per service`,
        );
      seenNames.set(port.name, i);
      seenNumbers.set(port.port, i);
    });

    checkImagePinned(config, service.image, [...base, 'image'], at);
    if (!isLabelValue(versionOf(service))) {
      at(
        [...base, 'image'],
        `the tag of ${show(service.image)} becomes the label app.kubernetes.io/version ${show(versionOf(service))}, which is not ${LABEL_VALUE_RULE}; use a tag that starts and ends with a letter or digit`,
      );
    }

    // resources: requests <= limits, Guaranteed QoS (config/workload-rules.ts)
    checkRequestsWithinLimits(service.resources, [...base, 'resources'], '', at);
    checkLimitRange(config, `service "${service.name}"`, service.resources, [...base, 'resources'], at);
    if (isGuaranteed(service)) {
      // pinned CPUs need Guaranteed QoS although qos does not say so: the message says why
      const why = service.qos === 'guaranteed' ? '' : ' (cpuPinning: true needs Guaranteed QoS)';
      for (const problem of guaranteedQosProblems(service.resources, true)) {
        at([...base, 'resources', ...(problem.field ? problem.field.split('.') : [])], `${problem.message}${why}`);
      }
    }

    checkSidecars(config, service, base, at);

    if (service.priority && !ownValue(config.priorityClasses, service.priority)) {
      at(
        [...base, 'priority'],
        `${show(service.priority)} is not a declared priority class; declared: ${listNames(Object.keys(config.priorityClasses)) || 'none (add priorityClasses to the environment)'}`,
      );
    }

    // probes are required from staging on
    if (config.tier !== 'development') {
      for (const probe of ['readiness', 'liveness'] as const) {
        if (!service.probes?.[probe]) {
          at(
            [...base, 'probes'],
            `service "${service.name}" has no ${probe} probe; ${config.tier} requires readiness and liveness probes`,
          );
        }
      }
    }
    for (const [kind, probe] of Object.entries(service.probes ?? {})) {
      if (!probe) continue;
      const handlers = ['http', 'tcp', 'grpc', 'exec'].filter((h) => (probe as Record<string, unknown>)[h]);
      if (handlers.length !== 1) {
        at(
          [...base, 'probes', kind],
          `must have exactly one of http, tcp, grpc or exec (got ${handlers.length ? handlers.join(', ') : 'none'})`,
        );
      }
      const port = probe.http?.port ?? probe.tcp?.port;
      if (typeof port === 'string' && !service.ports.some((p) => p.name === port)) {
        at(
          [...base, 'probes', kind],
          `refers to port "${port}" which the service does not declare; declared: ${service.ports.map((p) => p.name).join(', ')}`,
        );
      }
    }

    // literal env values and ConfigMap entries must not be credentials
    for (const [name, value] of Object.entries(service.env ?? {})) {
      if (looksLikeCredential(name, value)) {
        at(
          [...base, 'env', name],
          `looks like a credential; literal values are written to dist/ in plain text. Move it to secrets: [{env: ${name}, remoteKey: ...}] so an ExternalSecret provides it`,
          true,
        );
      }
    }
    for (const [name, value] of Object.entries(service.config ?? {})) {
      if (looksLikeCredential(name, value)) {
        at(
          [...base, 'config', name],
          `looks like a credential; config entries are written to dist/ in plain text (the ConfigMap ${service.name}-config). Move it to secrets: [{env: ..., remoteKey: ...}] so an ExternalSecret provides it`,
          true,
        );
      }
    }
    const envNames = new Set(Object.keys(service.env ?? {}));
    (service.secrets ?? []).forEach((secret, i) => {
      if (envNames.has(secret.env))
        at([...base, 'secrets', i, 'env'], `"${secret.env}" is also set as a literal in env; keep one`);
    });
    // the auth credentials a service receives (its own and its dependencies') share its env names
    const secretByEnv = new Map<string, { remoteKey: string; from: string }>();
    (service.secrets ?? []).forEach((s) => secretByEnv.set(s.env, { remoteKey: s.remoteKey, from: `its secrets` }));
    const auths: Array<[string, ServiceConfig['auth'], PathSegment[]]> = [
      [service.name, service.auth, [...base, 'auth']],
    ];
    (service.dependsOn ?? []).forEach((dep, i) => {
      if ('service' in dep) auths.push([dep.service, config.services[dep.service]?.auth, [...base, 'dependsOn', i]]);
    });
    for (const [owner, auth, p] of auths) {
      if (!auth) continue;
      if (envNames.has(auth.env))
        at(
          p,
          `the auth credential of "${owner}" is given to "${service.name}" as ${auth.env}, which "${service.name}" also sets as a literal in env; remove the literal`,
        );
      const seen = secretByEnv.get(auth.env);
      if (seen && seen.remoteKey !== auth.remoteKey) {
        at(
          p,
          `the auth credential of "${owner}" (remoteKey ${show(auth.remoteKey)}) is given to "${service.name}" as ${auth.env}, which already carries ${show(seen.remoteKey)} from ${seen.from}; give one of them another env name`,
        );
      } else if (!seen) {
        secretByEnv.set(auth.env, { remoteKey: auth.remoteKey, from: `the auth of "${owner}"` });
      }
    }

    if (service.release?.strategy === 'blueGreen' && service.workload !== 'deployment') {
      at(
        [...base, 'release', 'strategy'],
        `blueGreen needs a deployment workload; "${service.name}" is a ${service.workload}`,
      );
    }
    if (service.storage && service.workload !== 'statefulset') {
      at(
        [...base, 'storage'],
        `persistent storage needs workload: statefulset ("${service.name}" is a ${service.workload})`,
      );
    }
    if (service.peers && service.workload !== 'statefulset') {
      at(
        [...base, 'peers'],
        `peers describes how the replicas of a StatefulSet find each other; "${service.name}" is a ${service.workload}, whose replicas are interchangeable. Set workload: statefulset or remove peers`,
      );
    }
    const peerPort = service.peers?.port;
    if (peerPort !== undefined && !service.ports.some((cp) => cp.name === peerPort || cp.port === peerPort)) {
      at(
        [...base, 'peers', 'port'],
        `${show(peerPort)} is not a port of "${service.name}"; its ports: ${service.ports.map((cp) => `${cp.name} (${cp.port})`).join(', ')}`,
      );
    }

    (service.dependsOn ?? []).forEach((dep, i) => checkDependency(config, service, dep, [...base, 'dependsOn', i], at));
  }

  // the secret store's provider block as the CRD spells it, with credentials only through secretRefs
  for (const problem of providerProblems(config.secretStore.provider))
    at(['secretStore', 'provider', ...problem.path], problem.message, problem.key);
  for (const flag of Object.values(config.featureFlags)) {
    if (!ownValue(config.services, flag.owner)) {
      const suggestion = nearest(flag.owner, Object.keys(config.services));
      at(
        ['featureFlags', flag.name, 'owner'],
        `${show(flag.owner)} is not a declared service; ${suggestion ? `did you mean "${suggestion}"? ` : ''}a flag's owner is the service that reads it (its pods mount the feature-flags ConfigMap); declared: ${listNames(Object.keys(config.services))}`,
      );
    }
  }

  checkAvailabilityRules(config, at);
  checkBackupRules(config, at);
  checkMonitoringRules(config, at);
  checkDeliveryRules(config, at);
  checkAutoscalingRules(config, at);
  checkNetworkRules(config, at);
  checkApiRules(config, at);
  checkEgressUnion(config, at);
  checkNodeRules(config, at);
  checkTracingRules(config, at);
  checkPlacementRules(config, at);
  checkMeshRules(config, at);
  checkNamespaceRules(config, at);

  // no peer opens (nearly) the whole internet unless it says why (core/cidr.ts, WIDEST_PREFIX);
  // the peers of one service together are judged by checkEgressUnion
  for (const peer of Object.values(config.externals)) {
    if (isReason(peer.reason)) continue;
    for (const wide of wideCidrs(peer.cidrs)) {
      at(
        ['externals', peer.name, 'cidrs', ...(wide.index === undefined ? [] : [wide.index])],
        `${wide.message}; narrow it to the peer's own ranges (each block /${WIDEST_PREFIX[4]} or narrower for IPv4, /${WIDEST_PREFIX[6]} or narrower for IPv6, at most one such block of public addresses in all) or add a "reason" to externals.${peer.name} saying why it is needed`,
      );
    }
  }
  return issues;
}

type At = (p: PathSegment[], message: string, key?: boolean) => void;

/** Every container must fit the namespace's LimitRange `max`, or the API server rejects the pod. */
function checkLimitRange(
  config: TargetConfig,
  what: string,
  resources: ServiceConfig['resources'],
  p: PathSegment[],
  at: At,
): void {
  const max = config.limitRange.max;
  if (cpuMillis(resources.limits.cpu) > cpuMillis(max.cpu)) {
    at(
      [...p, 'limits', 'cpu'],
      `${what}: limit ${show(resources.limits.cpu)} exceeds the LimitRange maximum per container ${show(max.cpu)} (limitRange.max.cpu); lower the limit or raise limitRange.max.cpu`,
    );
  }
  const ephemeral = resources.limits.ephemeralStorage ?? config.limitRange.default.ephemeralStorage;
  const ephemeralMax = max.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.max;
  if (ephemeral && memoryBytes(ephemeral) > memoryBytes(ephemeralMax)) {
    at(
      [...p, 'limits', 'ephemeralStorage'],
      `${what}: ephemeral-storage limit ${show(ephemeral)} exceeds the LimitRange maximum per container ${show(ephemeralMax)} (limitRange.max.ephemeralStorage); lower the limit or raise the maximum`,
    );
  }
  if (memoryBytes(resources.limits.memory) > memoryBytes(max.memory)) {
    at(
      [...p, 'limits', 'memory'],
      `${what}: limit ${show(resources.limits.memory)} exceeds the LimitRange maximum per container ${show(max.memory)} (limitRange.max.memory); lower the limit or raise limitRange.max.memory`,
    );
  }
}

/** An image is pinned (config/workload-rules.ts, `imagePinProblem`). */
function checkImagePinned(config: TargetConfig, reference: string, path: PathSegment[], at: At): void {
  const problem = imagePinProblem(reference, config.tier);
  if (problem) at(path, problem);
}

/** Each request is at most its limit; `what` prefixes the message (a sidecar names itself). */
function checkRequestsWithinLimits(resources: Resources, path: PathSegment[], what: string, at: At): void {
  const { requests, limits } = resources;
  if (cpuMillis(requests.cpu) > cpuMillis(limits.cpu)) {
    at(
      [...path, 'requests', 'cpu'],
      `${what}request ${show(requests.cpu)} exceeds the limit ${show(limits.cpu)}; a request must be <= its limit`,
    );
  }
  if (memoryBytes(requests.memory) > memoryBytes(limits.memory)) {
    at(
      [...path, 'requests', 'memory'],
      `${what}request ${show(requests.memory)} exceeds the limit ${show(limits.memory)}; a request must be <= its limit`,
    );
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
    if (sc.name === service.name)
      at([...p, 'name'], `${show(sc.name)} is the name of the service's own container; give the sidecar another name`);
    if (names.has(sc.name))
      at(
        [...p, 'name'],
        `${show(sc.name)} is already used by sidecars[${names.get(sc.name)}]; container names must be unique in the pod`,
      );
    names.set(sc.name, i);

    checkImagePinned(config, sc.image, [...p, 'image'], at);

    checkRequestsWithinLimits(sc.resources, [...p, 'resources'], `${what}: `, at);
    if (isGuaranteed(service)) {
      const why = service.qos === 'guaranteed' ? '' : ' (cpuPinning: true needs Guaranteed QoS)';
      for (const problem of guaranteedQosProblems(sc.resources, false))
        at(
          [...p, 'resources', ...(problem.field ? problem.field.split('.') : [])],
          `${what}: ${problem.message}${why}`,
        );
    }
    checkLimitRange(config, what, sc.resources, [...p, 'resources'], at);

    for (const [name, value] of Object.entries(sc.env ?? {})) {
      if (looksLikeCredential(name, value))
        at(
          [...p, 'env', name],
          `looks like a credential; literal values are written to dist/ in plain text. Move it to the service's secrets so an ExternalSecret provides it`,
          true,
        );
    }
    if (config.tier !== 'development') {
      for (const probe of ['readiness', 'liveness'] as const) {
        if (!sc.probes?.[probe])
          at(
            [...p, 'probes'],
            `${what} has no ${probe} probe; ${config.tier} requires readiness and liveness probes in every container`,
          );
      }
    }
    (sc.ports ?? []).forEach((ref, j) => {
      const port = service.ports.find((sp) => sp.name === ref || sp.port === ref);
      if (!port) {
        at(
          [...p, 'ports', j],
          `${show(ref)} is not a port of "${service.name}"; a sidecar serves ports declared in the service's ports: ${service.ports.map((sp) => `${sp.name} (${sp.port})`).join(', ')}`,
        );
      } else if (served.has(port.name)) {
        at(
          [...p, 'ports', j],
          `port "${port.name}" is already served by sidecar "${served.get(port.name)}"; each port is served by one container`,
        );
      } else {
        served.set(port.name, sc.name);
      }
    });
    for (const [kind, probe] of Object.entries(service.probes ?? {})) {
      const ref = probe?.http?.port ?? probe?.tcp?.port;
      const port = service.ports.find((sp) => sp.name === ref || sp.port === ref);
      if (port && (sc.ports ?? []).some((r) => r === port.name || r === port.port)) {
        at(
          [...base, 'probes', kind],
          `probes port "${port.name}", which ${what} serves, not the service's container; probe a port of the service's own container`,
        );
      }
    }
    for (const [kind, probe] of Object.entries(sc.probes ?? {})) {
      if (!probe) continue;
      const handlers = ['http', 'tcp', 'grpc', 'exec'].filter((h) => (probe as Record<string, unknown>)[h]);
      if (handlers.length !== 1)
        at(
          [...p, 'probes', kind],
          `must have exactly one of http, tcp, grpc or exec (got ${handlers.length ? handlers.join(', ') : 'none'})`,
        );
    }
  });
}

function checkDependency(
  config: TargetConfig,
  service: ServiceConfig,
  dep: Dependency,
  p: PathSegment[],
  at: (p: PathSegment[], m: string) => void,
): void {
  if ('service' in dep) {
    const callee = ownValue(config.services, dep.service);
    if (!callee) {
      const known = [
        ...Object.keys(config.services),
        ...Object.keys(config.externals).map((e) => `${e} (as external)`),
      ];
      const suggestion = nearest(dep.service, Object.keys(config.services));
      at(
        [...p, 'service'],
        `"${service.name}" depends on "${dep.service}", which is not a declared service; ${suggestion ? `did you mean "${suggestion}"? ` : ''}declared: ${listNames(known)}. Declare it under services (or externals) or remove the dependency`,
      );
      return;
    }
    if (callee.name === service.name) {
      at(
        [...p, 'service'],
        `"${service.name}" depends on itself; traffic between a service's own pods is not part of the graph (NetworkPolicies deny it), so remove the dependency; replicas of a StatefulSet that form a group talk on peers.port`,
      );
      return;
    }
    const port = callee.ports.find((cp) => cp.name === dep.port || cp.port === dep.port);
    if (!port) {
      at(
        [...p, 'port'],
        `${show(dep.port)} is not a port of "${callee.name}"; its ports: ${callee.ports.map((cp) => `${cp.name} (${cp.port})`).join(', ')}`,
      );
    }
  } else {
    const peer = ownValue(config.externals, dep.external);
    if (!peer) {
      const suggestion = nearest(dep.external, Object.keys(config.externals));
      at(
        [...p, 'external'],
        `"${service.name}" depends on the external peer "${dep.external}", which is not declared${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; declared externals: ${listNames(Object.keys(config.externals)) || 'none'}. Add it under externals with its CIDRs and ports`,
      );
      return;
    }
    for (const port of dep.ports ?? []) {
      if (!peer.ports.some((pp) => pp.port === port)) {
        at(
          [...p, 'ports'],
          `${port} is not a port of external "${peer.name}"; its ports: ${peer.ports.map((pp) => pp.port).join(', ')}`,
        );
      }
    }
  }
}
