import { ApiObject, Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { DEFAULT_BEHAVIOR, ScalingMetric } from '../config/autoscaling-rules';
import { ReplicaRange, ResourceAmounts, ScalingBehavior, ScalingRule, VpaUpdateMode } from '../config/types';
import { ScaledObject, ScaledObjectSpecTriggers } from '../imports/scaledobject-keda.sh';
import {
  VerticalPodAutoscaler,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode as ContainerPolicyMode,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed as MaxAllowed,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed as MinAllowed,
  VerticalPodAutoscalerSpecUpdatePolicyUpdateMode as UpdateMode,
} from '../imports/vpa-autoscaling.k8s.io';
import { DEFAULT_PROMETHEUS_URL } from './blue-green';
import { WorkloadRef } from './workload';

/** The name KEDA gives the HPA it makes for a ScaledObject (KEDA's default, `keda-hpa-<name>`). */
export const kedaHpaNameOf = (scaledObject: string) => `keda-hpa-${scaledObject}`;

/** A VerticalPodAutoscaler's settings. */
export interface VpaOptions {
  /** @default 'Off' (recommendations only) where an HPA scales the workload, otherwise 'Initial' */
  readonly updateMode?: VpaUpdateMode;
  /** @default cpu and memory, minus what the HPA scales on */
  readonly controlledResources?: ReadonlyArray<'cpu' | 'memory'>;
  /** @default - no lower bound */
  readonly minAllowed?: Partial<ResourceAmounts>;
  /** @default - no upper bound */
  readonly maxAllowed?: Partial<ResourceAmounts>;
}

export interface ServiceAutoscalingProps {
  /**
   * The workload both autoscalers act on. Its apiVersion and kind are used as they are, so a
   * Deployment, a StatefulSet and an Argo Rollout are all targeted the same way.
   */
  readonly workload: WorkloadRef;
  /** Labels of the autoscalers. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /**
   * The replica range: an HPA (or KEDA's) scales within it when min < max and `metrics` are given.
   * A minimum of 0 needs a prometheus metric (KEDA activates the workload from zero on it).
   */
  readonly replicas: ReplicaRange;
  /**
   * What the HPA scales on: resource utilisation, and Prometheus queries, which make it a KEDA
   * ScaledObject (KEDA owns the HPA then, and feeds it the resource metrics too). @default - no HPA
   */
  readonly metrics?: readonly ScalingMetric[];
  /** The Prometheus HTTP API KEDA's prometheus triggers query. @default DEFAULT_PROMETHEUS_URL */
  readonly prometheusUrl?: string;
  /** The HPA's behaviour, per direction. @default DEFAULT_BEHAVIOR (scale up fast, scale down slowly) */
  readonly behavior?: ScalingBehavior;
  /** A VerticalPodAutoscaler. @default - no VPA */
  readonly vpa?: VpaOptions;
  /** The container the VPA sizes (the service's own). @default the workload's name */
  readonly container?: string;
  /** Containers the VPA leaves at their configured resources (sidecars). @default none */
  readonly fixedContainers?: readonly string[];
}

/**
 * The autoscalers of one workload:
 *
 * - a HorizontalPodAutoscaler (autoscaling/v2) when `replicas` is a range with min < max, scaling
 *   on the given resource metrics, with the given `behavior`, else {@link DEFAULT_BEHAVIOR} (scale
 *   up fast, scale down slowly after a 300 s stabilization window);
 * - instead, when a metric is a Prometheus query, a KEDA ScaledObject (keda.sh/v1alpha1) with a
 *   prometheus trigger per query and a cpu/memory trigger per resource metric, the same range and
 *   behaviour (`advanced.horizontalPodAutoscalerConfig`): KEDA makes and owns the HPA
 *   (`keda-hpa-<workload>`) and serves it the queries' values, which no metrics adapter would;
 * - a VerticalPodAutoscaler (autoscaling.k8s.io/v1) when `vpa` is given. Where an HPA exists
 *   it defaults to updateMode Off (recommendations only) over the resources the HPA does not scale
 *   on; otherwise to Initial (sizes new pods, never evicts).
 *
 * A VPA that changes a resource the HPA scales on is refused: config/autoscaling-rules.ts reports
 * it against the YAML, and a validation here refuses it again should the construct be used alone.
 * The workload of an autoscaled service must carry no `spec.replicas` (the HPA owns it), which is
 * validated against the synthesized workload object.
 */
export class ServiceAutoscaling extends Construct {
  /** The HPA's name (the workload's, or KEDA's `keda-hpa-<workload>`), when the service has one. */
  readonly hpaName?: string;
  /** The ScaledObject's name (the workload's), when KEDA scales the service. */
  readonly scaledObjectName?: string;
  /** The VPA's name (the workload's), when the service has one. */
  readonly vpaName?: string;

  constructor(scope: Construct, id: string, props: ServiceAutoscalingProps) {
    super(scope, id);
    const { workload, labels, replicas } = props;
    const targetRef = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name };
    const metrics = replicas.min < replicas.max ? props.metrics : undefined;
    const keda = metrics?.some((m) => m.type === 'prometheus') ?? false;
    const scaler = keda ? 'ScaledObject' : 'HPA';
    // the resources whose utilisation the HPA scales on
    const scaled = metrics
      ? RESOURCES.filter((r) => metrics.some((m) => m.type === 'resource' && m.resource === r))
      : [];

    if (metrics) {
      const behavior = {
        scaleUp: scalingRules(props.behavior?.scaleUp ?? DEFAULT_BEHAVIOR.scaleUp),
        scaleDown: scalingRules(props.behavior?.scaleDown ?? DEFAULT_BEHAVIOR.scaleDown),
      };
      if (keda) {
        const serverAddress = props.prometheusUrl ?? DEFAULT_PROMETHEUS_URL;
        new ScaledObject(this, 'scaled-object', {
          metadata: { name: workload.name, labels },
          spec: {
            scaleTargetRef: targetRef,
            minReplicaCount: replicas.min,
            maxReplicaCount: replicas.max,
            advanced: { horizontalPodAutoscalerConfig: { behavior } },
            triggers: metrics.map((m) => trigger(m, serverAddress)),
          },
        });
        this.scaledObjectName = workload.name;
        this.hpaName = kedaHpaNameOf(workload.name);
      } else {
        new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
          metadata: { name: workload.name, labels },
          spec: {
            scaleTargetRef: targetRef,
            minReplicas: replicas.min,
            maxReplicas: replicas.max,
            metrics: metrics.map(metricSpec),
            behavior,
          },
        });
        this.hpaName = workload.name;
      }
      this.node.addValidation({ validate: () => this.replicasLeftToHpa(workload, replicas, scaler) });
    }

    if (props.vpa) {
      const { minAllowed, maxAllowed } = props.vpa;
      const updateMode = props.vpa.updateMode ?? (replicas.min < replicas.max ? 'Off' : 'Initial');
      const controlledResources = props.vpa.controlledResources
        ? [...props.vpa.controlledResources]
        : RESOURCES.filter((r) => !scaled.includes(r));
      new VerticalPodAutoscaler(this, 'vpa', {
        metadata: { name: workload.name, labels },
        spec: {
          targetRef,
          updatePolicy: { updateMode: updateMode as UpdateMode },
          resourcePolicy: {
            containerPolicies: [
              {
                containerName: props.container ?? workload.name,
                controlledResources,
                minAllowed: quantities(minAllowed, MinAllowed.fromString),
                maxAllowed: quantities(maxAllowed, MaxAllowed.fromString),
              },
              // sidecars keep their configured resources: the VPA's bounds are the service's
              ...(props.fixedContainers ?? []).map((containerName) => ({
                containerName,
                mode: ContainerPolicyMode.OFF,
              })),
            ],
          },
        },
      });
      this.vpaName = workload.name;
      this.node.addValidation({
        validate: () => {
          // a VPA that acts (any mode but Off) on a resource the HPA scales on fights the HPA
          const conflicts = updateMode === 'Off' ? [] : controlledResources.filter((r) => scaled.includes(r));
          return conflicts.length
            ? [
                `${Chart.of(this).node.id}: the VPA of "${workload.name}" updates ${conflicts.join(' and ')} (updateMode ${updateMode}) while its ${scaler} scales on ${conflicts.map((r) => `${r} utilisation`).join(' and ')}: ` +
                  `the VPA raises requests, which lowers the utilisation the ${scaler} sees, so it removes pods and the two fight; ` +
                  `set the VPA's updateMode to Off, leave those resources out of its controlledResources, or scale the ${scaler} on another metric`,
              ]
            : [];
        },
      });
    }
  }

  /** The HPA (KEDA's too) owns `replicas`: a workload that also sets it is re-set by every Argo CD sync. */
  private replicasLeftToHpa(workload: WorkloadRef, range: ReplicaRange, scaler: string): string[] {
    const where = Chart.of(this).node.id;
    if (workload.resource) {
      // the workload construct says what it wrote; no need to render it again
      return workload.replicas === undefined
        ? []
        : [replicasMessage(where, workload, range, workload.replicas, scaler)];
    }
    const object = Chart.of(this)
      .node.findAll()
      .find((c): c is ApiObject => c instanceof ApiObject && c.kind === workload.kind && c.name === workload.name);
    if (!object) {
      return [
        `the ${scaler} of "${workload.name}" in ${where} targets ${workload.kind}/${workload.name}, which this chart does not define; point it at the service's workload`,
      ];
    }
    const replicas = (object.toJson() as { spec?: { replicas?: number } }).spec?.replicas;
    return replicas === undefined ? [] : [replicasMessage(where, workload, range, replicas, scaler)];
  }
}

const RESOURCES: ReadonlyArray<'cpu' | 'memory'> = ['cpu', 'memory'];

function replicasMessage(
  where: string,
  workload: WorkloadRef,
  range: ReplicaRange,
  replicas: number,
  scaler: string,
): string {
  const by = scaler === 'HPA' ? 'an HPA' : "a ScaledObject (KEDA's HPA)";
  return (
    `${workload.kind}/${workload.name} in ${where} sets spec.replicas (${replicas}) although ${by} scales it between ${range.min} and ${range.max}; ` +
    'leave replicas out of the workload so that the HPA and Argo CD do not fight over it'
  );
}

/** An HPA metric: resource utilisation only (a Prometheus query makes a ScaledObject instead). */
function metricSpec(metric: ScalingMetric): k8s.MetricSpecV2 {
  if (metric.type !== 'resource')
    throw new Error(`metric "${metric.name}" is a Prometheus query, which only a ScaledObject can scale on`);
  return {
    type: 'Resource',
    resource: { name: metric.resource, target: { type: 'Utilization', averageUtilization: metric.targetUtilization } },
  };
}

/**
 * A KEDA trigger: cpu/memory utilisation (KEDA hands these to its HPA as resource metrics), or a
 * Prometheus query whose value KEDA serves to its HPA, per pod (AverageValue) or as is (Value).
 */
function trigger(metric: ScalingMetric, serverAddress: string): ScaledObjectSpecTriggers {
  if (metric.type === 'resource')
    return { type: metric.resource, metricType: 'Utilization', metadata: { value: String(metric.targetUtilization) } };
  const perPod = metric.targetAverageValue !== undefined;
  return {
    type: 'prometheus',
    name: metric.name,
    metricType: perPod ? 'AverageValue' : 'Value',
    metadata: {
      serverAddress,
      query: metric.query,
      threshold: String(perPod ? metric.targetAverageValue : metric.targetValue),
    },
  };
}

/** One direction of HPA behaviour: a percent and/or a pods policy; the larger change wins. */
function scalingRules(rule: ScalingRule): k8s.HpaScalingRulesV2 {
  const policies: k8s.HpaScalingPolicyV2[] = [];
  if (rule.percent !== undefined)
    policies.push({ type: 'Percent', value: rule.percent, periodSeconds: rule.periodSeconds });
  if (rule.pods !== undefined) policies.push({ type: 'Pods', value: rule.pods, periodSeconds: rule.periodSeconds });
  return { stabilizationWindowSeconds: rule.stabilizationWindowSeconds, selectPolicy: 'Max', policies };
}

function quantities<T>(
  amounts: Partial<ResourceAmounts> | undefined,
  of: (q: string) => T,
): Record<string, T> | undefined {
  const entries = Object.entries(amounts ?? {}).filter(([, v]) => v !== undefined) as Array<[string, string]>;
  return entries.length ? Object.fromEntries(entries.map(([k, v]) => [k, of(v)])) : undefined;
}
