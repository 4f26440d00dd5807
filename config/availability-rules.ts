import { listNames, PathSegment, show } from './errors';
import { ServiceConfig, TargetConfig } from './types';

/** What production must spread over: zones and nodes (PLATFORM.md, issue 3). */
export const PRODUCTION_SPREAD = 'zones-and-nodes';

/** The topology key of zones, the first that pods spread over. */
export const ZONE_KEY = 'topology.kubernetes.io/zone';
/** The topology key of nodes. */
export const HOSTNAME_KEY = 'kubernetes.io/hostname';

/** The topology keys pods spread over for an `availability.spread`: none, zones, or zones then nodes. */
export function topologyKeysOf(spread: TargetConfig['availability']['spread']): string[] {
  return spread === 'zones' ? [ZONE_KEY] : spread === 'zones-and-nodes' ? [ZONE_KEY, HOSTNAME_KEY] : [];
}

/*
 * The predicates below are the production availability rules, each written once: checkAvailabilityRules
 * applies them to the configuration, pipeline/policy.ts to the synthesized workloads (whoever built
 * them), whose messages name the configuration path these helpers return.
 */

/** Whether a maxUnavailable (a number or a percentage) lets a rolling update remove a pod early. */
export function allowsUnavailable(value: string | number): boolean {
  return typeof value === 'number' ? value > 0 : parseInt(value, 10) > 0;
}

/** Whether a preStop delay keeps a pod serving while endpoints and load balancers drop it. */
export function delaysStop(preStopSeconds: number): boolean {
  return preStopSeconds > 0;
}

/** Whether a grace period leaves the process time to shut down after the preStop delay. */
export function leavesShutdownTime(terminationGracePeriodSeconds: unknown, preStopSeconds: number): boolean {
  return Number.isInteger(terminationGracePeriodSeconds) && (terminationGracePeriodSeconds as number) > preStopSeconds;
}

/** Where each availability setting is configured, with the production fix, for the policy check's messages. */
export const AVAILABILITY_FIX = {
  spread: `set availability.spread to "${PRODUCTION_SPREAD}"`,
  maxUnavailable: 'set availability.maxUnavailable to 0 (raise availability.maxSurge to roll faster)',
  preStopSeconds: 'set availability.preStopSeconds above 0 (e.g. 15)',
  terminationGracePeriodSeconds: 'set availability.terminationGracePeriodSeconds above availability.preStopSeconds',
} as const;

/**
 * In every tier, a rolling update with no room (maxSurge and maxUnavailable both 0, which the API
 * server refuses) and a grace period that ends before the preStop delay does. In production,
 * settings that would switch availability off: no spread (or zones only), pods removed
 * before their replacement is ready, no graceful shutdown, services without a priority class. The
 * policy check (pipeline/policy.ts) enforces the same over the synthesized objects; refusing them here
 * points at the line that switched them off.
 */
export function checkAvailabilityRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  const { availability } = config;
  // in every tier: what the API server refuses, and a pod killed before it is told to stop
  if (!allowsUnavailable(availability.maxSurge) && !allowsUnavailable(availability.maxUnavailable)) {
    at(
      ['availability', 'maxSurge'],
      `${show(availability.maxSurge)} with maxUnavailable ${show(availability.maxUnavailable)} leaves a rolling update no room: it may neither add a pod nor remove one, and the API server refuses the Deployment; allowed: maxSurge 1 or more (a new pod before an old one goes), or maxUnavailable above 0 outside production`,
    );
  }
  // without a preStop delay (preStopSeconds 0) there is no hook to outlast
  if (
    delaysStop(availability.preStopSeconds) &&
    !leavesShutdownTime(availability.terminationGracePeriodSeconds, availability.preStopSeconds)
  ) {
    at(
      ['availability', 'terminationGracePeriodSeconds'],
      `${show(availability.terminationGracePeriodSeconds)} leaves no time to shut down after the preStop delay of ${availability.preStopSeconds}s: the kubelet kills the container before it is sent SIGTERM; allowed: more than preStopSeconds (e.g. ${availability.preStopSeconds + 30})`,
    );
  }
  if (config.tier !== 'production') return;
  if (availability.spread !== PRODUCTION_SPREAD) {
    at(
      ['availability', 'spread'],
      `${show(availability.spread)} is not allowed in production: pods must spread over zones and nodes so that losing one takes out at most a share of each service; allowed: "${PRODUCTION_SPREAD}"`,
    );
  }
  if (!availability.zoneSpread) {
    at(
      ['availability'],
      `has no zoneSpread: production must decide what its zone spread does when pods cannot spread evenly; add availability.zoneSpread: { whenUnsatisfiable: DoNotSchedule or ScheduleAnyway, reason: why }`,
    );
  }
  if (allowsUnavailable(availability.maxUnavailable)) {
    at(
      ['availability', 'maxUnavailable'],
      `${show(availability.maxUnavailable)} is not allowed in production: a rolling update would stop pods before their replacements are ready; allowed: 0 (raise maxSurge to roll faster)`,
    );
  }
  if (!delaysStop(availability.preStopSeconds)) {
    at(
      ['availability', 'preStopSeconds'],
      `${show(availability.preStopSeconds)} is not allowed in production: without a preStop delay a pod stops accepting connections while endpoints and load balancers still send it traffic; allowed: 1 or more seconds (e.g. 15)`,
    );
  }
  const declared = Object.keys(config.priorityClasses);
  for (const service of Object.values(config.services)) {
    if (!service.priority) {
      const file = config.sources[config.sources.length - 1];
      at(
        ['services', service.name, 'priority'],
        `is not set for service "${service.name}": production pods need a priority class so that they are not preempted by less important ones; add "priority" under services.${service.name} in ${file}; allowed: ${declared.length ? listNames(declared.map((d) => show(d))) : 'a key of priorityClasses (declare them in the environment file)'}`,
      );
    }
  }
}

/**
 * The topology keys a service's pods spread over: the environment's, and zones for a Sentinel set
 * whatever the environment says (one pod per zone is what keeps its quorum through a zone outage).
 */
export function serviceTopologyKeysOf(
  spread: TargetConfig['availability']['spread'],
  service: Pick<ServiceConfig, 'replication'>,
): string[] {
  const keys = topologyKeysOf(spread);
  return service.replication?.mode === 'sentinel' && !keys.includes(ZONE_KEY) ? [ZONE_KEY, ...keys] : keys;
}

/**
 * How a service's pods spread over one topology key when they cannot spread evenly. A service's
 * `spreadPolicy` applies in production only (staging and development clusters are smaller); else
 * zones follow the environment's `availability.zoneSpread` (decided per environment, with its
 * reason), nodes spread best-effort (ScheduleAnyway).
 */
export function spreadPolicyOf(
  config: {
    readonly tier: TargetConfig['tier'];
    readonly availability: Pick<TargetConfig['availability'], 'zoneSpread'>;
  },
  service: Pick<ServiceConfig, 'spreadPolicy' | 'replication'>,
  topologyKey: string,
): 'DoNotSchedule' | 'ScheduleAnyway' {
  // a Sentinel set spreads one pod per zone in every environment: two in one zone would let that
  // zone's outage take the Sentinels' majority (config/replication.ts)
  if (service.replication?.mode === 'sentinel' && topologyKey === ZONE_KEY) return 'DoNotSchedule';
  if (config.tier === 'production' && service.spreadPolicy) return service.spreadPolicy;
  return topologyKey === ZONE_KEY
    ? (config.availability.zoneSpread?.whenUnsatisfiable ?? 'ScheduleAnyway')
    : 'ScheduleAnyway';
}
