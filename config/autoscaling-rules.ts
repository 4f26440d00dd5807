import { promqlError, returnsOneValue } from '../core/promql';
import { cpuMillis, memoryBytes } from '../core/quantity';
import { PathSegment, show } from './errors';
import { isAutoscaled, latencyCriticalBecause, replicaRange } from './model';
import { HpaMetric, ScalingBehavior, ScalingRule, ServiceConfig, TargetConfig, VpaUpdateMode } from './types';

/** A resource both autoscalers can act on. */
export type ScaledResource = 'cpu' | 'memory';
const RESOURCES: readonly ScaledResource[] = ['cpu', 'memory'];

/**
 * HPA behaviour when neither the service nor the environment sets one: scale up fast, scale down
 * slowly. Kept equal to `autoscaling.behavior` in environments/defaults.yaml.
 */
export const DEFAULT_BEHAVIOR: Required<ScalingBehavior> = {
  scaleUp: { stabilizationWindowSeconds: 0, percent: 100, pods: 4, periodSeconds: 15 },
  scaleDown: { stabilizationWindowSeconds: 300, percent: 25, pods: 1, periodSeconds: 60 },
};

/**
 * What scales a service horizontally: an HPA of ours (`hpa`), or a KEDA ScaledObject (`keda`) when
 * one of its metrics is a Prometheus query (KEDA then owns the HPA, which gets the resource
 * metrics too); undefined for fixed replicas or no metrics.
 */
export type Scaler = 'hpa' | 'keda';
export function scalerOf(service: ServiceConfig): Scaler | undefined {
  const metrics = service.autoscaling?.metrics;
  if (!isAutoscaled(service) || !metrics) return undefined;
  return metrics.some((m) => m.type === 'prometheus') ? 'keda' : 'hpa';
}

/** The scaler as messages name it. */
const SCALER_NAME: Record<Scaler, string> = { hpa: 'HPA', keda: 'ScaledObject' };

/** A metric the platform can feed to the HPA: resource utilisation (metrics-server) or a Prometheus query (KEDA). */
export type ScalingMetric = Extract<HpaMetric, { readonly type: 'resource' | 'prometheus' }>;
export const isScalingMetric = (m: HpaMetric): m is ScalingMetric => m.type === 'resource' || m.type === 'prometheus';

/** The resources whose utilisation the service's HPA (or KEDA's) scales on (none when it has none). */
export function hpaResources(service: ServiceConfig): ScaledResource[] {
  if (!isAutoscaled(service)) return [];
  const found = new Set<ScaledResource>();
  for (const metric of service.autoscaling?.metrics ?? []) if (metric.type === 'resource') found.add(metric.resource);
  return RESOURCES.filter((r) => found.has(r));
}

/** A VPA's settings with the documented defaults filled in. */
export interface EffectiveVpa {
  readonly updateMode: VpaUpdateMode;
  readonly controlledResources: ScaledResource[];
  /** Whether updateMode and controlledResources came from the configuration or from defaults. */
  readonly explicit: { readonly updateMode: boolean; readonly controlledResources: boolean };
}

/**
 * The VPA of a service, or undefined when it has none. Where an HPA exists the VPA defaults to
 * `Off` (recommendations only) and to controlling only what the HPA does not scale on; otherwise
 * to `Initial` (sizes new pods, never evicts) over cpu and memory.
 */
export function effectiveVpa(service: ServiceConfig): EffectiveVpa | undefined {
  const vpa = service.vpa;
  if (!vpa) return undefined;
  const scaled = hpaResources(service);
  return {
    updateMode: vpa.updateMode ?? (isAutoscaled(service) ? 'Off' : 'Initial'),
    controlledResources: vpa.controlledResources
      ? [...vpa.controlledResources]
      : RESOURCES.filter((r) => !scaled.includes(r)),
    explicit: { updateMode: vpa.updateMode !== undefined, controlledResources: vpa.controlledResources !== undefined },
  };
}

/** Whether a VPA in this mode changes pod resources (every mode but Off does). */
export function vpaActs(mode: VpaUpdateMode): boolean {
  return mode !== 'Off';
}

/** The resources a service's VPA would change although its HPA scales on them: must be empty. */
export function vpaHpaConflicts(service: ServiceConfig): ScaledResource[] {
  const vpa = effectiveVpa(service);
  if (!vpa || !vpaActs(vpa.updateMode)) return [];
  const scaled = hpaResources(service);
  return vpa.controlledResources.filter((r) => scaled.includes(r));
}

/** The message for an HPA/VPA conflict, shared by the configuration rule and the construct. */
export function vpaHpaConflictMessage(service: ServiceConfig, conflicts: readonly ScaledResource[]): string {
  const vpa = effectiveVpa(service)!;
  const metrics = conflicts.map((r) => `${r} utilisation`).join(' and ');
  const others = RESOURCES.filter((r) => !hpaResources(service).includes(r));
  const scaler = SCALER_NAME[scalerOf(service) ?? 'hpa'];
  return (
    `the VPA of "${service.name}" updates ${conflicts.join(' and ')} (updateMode ${vpa.updateMode}) while its ${scaler} scales on ${metrics}: ` +
    `the VPA raises requests, which lowers the utilisation the ${scaler} sees, so it removes pods and the two fight. ` +
    'Fix one of: set vpa.updateMode: "Off" (recommendations only), or ' +
    `set vpa.controlledResources to ${others.length ? `[${others.join(', ')}]` : '[] (or remove vpa)'} so the VPA leaves ${conflicts.join(' and ')} to the ${scaler}, ` +
    `or scale the ${scaler} on another metric (a prometheus query such as order queue depth per pod)`
  );
}

/** The behaviour of a service's HPA: the service's own, else the environment's, else the default. */
export function effectiveBehavior(config: TargetConfig, service: ServiceConfig): Required<ScalingBehavior> {
  const own = service.autoscaling?.behavior;
  const env = config.autoscaling?.behavior;
  return {
    scaleUp: own?.scaleUp ?? env?.scaleUp ?? DEFAULT_BEHAVIOR.scaleUp,
    scaleDown: own?.scaleDown ?? env?.scaleDown ?? DEFAULT_BEHAVIOR.scaleDown,
  };
}

/**
 * The lowest replica count from which a scale-down rule can still remove a pod. The HPA keeps
 * ceil(n × (1 − percent/100)) pods per period under a percent policy, so 25% of 3 pods keeps 3:
 * without a `pods` policy the HPA never gets below that count.
 */
export function scaleDownStallsBelow(rule: ScalingRule): number {
  if (rule.pods !== undefined || rule.percent === undefined) return 0;
  // n × percent / 100 >= 1 ⇔ n >= 100 / percent
  return Math.ceil(100 / rule.percent);
}

type At = (p: PathSegment[], message: string) => void;

/**
 * Rules of autoscaling that span fields: an HPA needs metrics and at least one replica (KEDA may
 * take a service to zero, unless it is latency-critical); only metrics something serves are
 * accepted (resource utilisation, Prometheus queries through KEDA; never pods or external ones,
 * which no adapter serves); a query parses and returns one value; a VPA never acts on what the
 * HPA scales on; a VPA that changes pods is bounded (so capacity is); scaling rules allow some
 * change and cannot stall above the minimum.
 */
export function checkAutoscalingRules(config: TargetConfig, at: At): void {
  const envBehavior = config.autoscaling?.behavior;
  for (const [direction, rule] of Object.entries(envBehavior ?? {}) as Array<[string, ScalingRule | undefined]>) {
    if (rule) checkScalingRule(rule, ['autoscaling', 'behavior', direction], at, `the environment's ${direction}`);
  }

  for (const service of Object.values(config.services)) {
    const base = ['services', service.name];
    const range = replicaRange(service);
    const autoscaled = isAutoscaled(service);

    const scaler = scalerOf(service);
    if (autoscaled && range.min < 1) {
      const because = latencyCriticalBecause(service);
      if (scaler !== 'keda') {
        at(
          [...base, 'replicas', 'min'],
          `is ${range.min} for "${service.name}", which an HPA scales; an HPA needs minReplicas >= 1 ` +
            '(scale to zero needs the alpha HPAScaleToZero feature gate, or a prometheus metric, which KEDA scales from zero); set min to 1 or more',
        );
      } else if (because.length) {
        at(
          [...base, 'replicas', 'min'],
          `is 0 for "${service.name}", so KEDA scales it to zero while its triggers are idle, but "${service.name}" is latency-critical ` +
            `(${because.join(', ')}): the first order after an idle spell would wait for a pod to be scheduled and start. ` +
            'Set min to 1 or more; scale to zero is for services off the latency path',
        );
      }
    }

    const triggerNames = new Map<string, number>();
    service.autoscaling?.metrics.forEach((metric, i) => {
      const p = [...base, 'autoscaling', 'metrics', i];
      if (metric.type === 'pods' || metric.type === 'external') {
        const target =
          metric.type === 'pods' || metric.targetValue === undefined
            ? `targetAverageValue: ${metric.targetAverageValue ?? '<per pod>'}`
            : `targetValue: ${metric.targetValue}`;
        at(
          [...p, 'type'],
          `${show(metric.type)} metric ${show(metric.metric)} of "${service.name}" is refused: no metrics adapter in the cluster serves ` +
            `${metric.type === 'pods' ? 'custom' : 'external'} metrics to the HPA, so it could never scale on it. Write it as a Prometheus query, ` +
            `which KEDA evaluates: { type: prometheus, name: <a-name>, query: "sum(${metric.metric})", ${target} }`,
        );
        return;
      }
      if (metric.type !== 'prometheus') return;
      const seen = triggerNames.get(metric.name);
      if (seen !== undefined)
        at(
          [...p, 'name'],
          `${show(metric.name)} is already the name of metrics[${seen}] of "${service.name}"; trigger names must be unique per service`,
        );
      triggerNames.set(metric.name, i);
      if ((metric.targetValue === undefined) === (metric.targetAverageValue === undefined)) {
        at(
          p,
          `prometheus metric ${show(metric.name)} of "${service.name}" needs exactly one of targetAverageValue (the query's value divided by the pods, ` +
            `e.g. orders queued per pod) or targetValue (the value itself, e.g. a latency); got ${metric.targetValue === undefined ? 'neither' : 'both'}`,
        );
      }
      const error = promqlError(metric.query);
      if (error) {
        at(
          [...p, 'query'],
          `prometheus metric ${show(metric.name)} of "${service.name}": ${error}; fix the query (it is checked with the Prometheus grammar)`,
        );
      } else if (!returnsOneValue(metric.query)) {
        at(
          [...p, 'query'],
          `prometheus metric ${show(metric.name)} of "${service.name}" may return several series (one per pod or label set): KEDA refuses ` +
            'a result of more than one element, so the service would never scale; aggregate it to one value, e.g. sum(...), max(...) or ' +
            'histogram_quantile(0.95, sum by (le) (rate(..._bucket[2m])))',
        );
      }
    });
    for (const [direction, rule] of Object.entries(service.autoscaling?.behavior ?? {}) as Array<
      [string, ScalingRule | undefined]
    >) {
      if (rule)
        checkScalingRule(
          rule,
          [...base, 'autoscaling', 'behavior', direction],
          at,
          `${direction} of "${service.name}"`,
        );
    }
    if (autoscaled) {
      const scaleDown = effectiveBehavior(config, service).scaleDown;
      const stall = scaleDownStallsBelow(scaleDown);
      if (stall > range.min + 1) {
        const own = service.autoscaling?.behavior?.scaleDown !== undefined;
        at(
          own ? [...base, 'autoscaling', 'behavior', 'scaleDown'] : ['autoscaling', 'behavior', 'scaleDown'],
          `scales "${service.name}" down by ${scaleDown.percent}% only: the HPA keeps ceil(n × ${(100 - scaleDown.percent!) / 100}) pods, so below ${stall} pods it can never ` +
            `remove one and the service stays above its minimum of ${range.min}; add "pods: 1" to the rule (the larger change wins)`,
        );
      }
    }

    const vpa = effectiveVpa(service);
    if (!vpa) continue;
    const vpaBase = [...base, 'vpa'];
    const conflicts = vpaHpaConflicts(service);
    if (conflicts.length) {
      const p = vpa.explicit.controlledResources
        ? [...vpaBase, 'controlledResources']
        : vpa.explicit.updateMode
          ? [...vpaBase, 'updateMode']
          : vpaBase;
      at(p, vpaHpaConflictMessage(service, conflicts));
    }
    if (vpa.controlledResources.length === 0) {
      at(
        vpaBase,
        `the VPA of "${service.name}" controls no resource: its ${SCALER_NAME[scalerOf(service) ?? 'hpa']} scales on ${hpaResources(service).join(' and ')}, which the VPA leaves alone by default; ` +
          'remove vpa, or set controlledResources with updateMode "Off" for recommendations only',
      );
    }
    const { minAllowed = {}, maxAllowed = {} } = service.vpa ?? {};
    for (const r of RESOURCES) {
      const min = minAllowed[r];
      const max = maxAllowed[r];
      if (min !== undefined && max !== undefined && amount(r, min) > amount(r, max)) {
        at(
          [...vpaBase, 'minAllowed', r],
          `${show(min)} is above maxAllowed.${r} ${show(max)} for "${service.name}"; minAllowed must be <= maxAllowed`,
        );
      }
    }
    if (vpaActs(vpa.updateMode)) {
      const unbounded = vpa.controlledResources.filter((r) => maxAllowed[r] === undefined);
      if (unbounded.length) {
        at(
          [...vpaBase, 'maxAllowed'],
          `the VPA of "${service.name}" changes ${unbounded.join(' and ')} (updateMode ${vpa.updateMode}) without a maxAllowed for ${unbounded.length > 1 ? 'them' : 'it'}, ` +
            `so no one can say whether the namespace quota holds the service; set vpa.maxAllowed.${unbounded[0]} (e.g. twice the request, ${show(service.resources.requests[unbounded[0]])} now) or use updateMode "Off"`,
        );
      }
    }
  }
}

function checkScalingRule(rule: ScalingRule, p: PathSegment[], at: At, what: string): void {
  if (rule.percent === undefined && rule.pods === undefined) {
    at(
      p,
      `${what} allows no change: give it "percent" (of current pods per period), "pods" (per period) or both (the larger change wins)`,
    );
  }
}

function amount(resource: ScaledResource, quantity: string): number {
  return resource === 'cpu' ? cpuMillis(quantity) : memoryBytes(quantity);
}
