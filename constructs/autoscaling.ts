import { ApiObject, Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { DEFAULT_BEHAVIOR } from '../config/autoscaling-rules';
import { HpaMetric, ReplicaRange, ResourceAmounts, ScalingBehavior, ScalingRule, VpaUpdateMode } from '../config/types';
import {
  VerticalPodAutoscaler,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode as ContainerPolicyMode,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed as MaxAllowed,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed as MinAllowed,
  VerticalPodAutoscalerSpecUpdatePolicyUpdateMode as UpdateMode,
} from '../imports/vpa-autoscaling.k8s.io';
import { WorkloadRef } from './workload';

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
  /** The replica range: an HPA scales within it when min < max and `metrics` are given. */
  readonly replicas: ReplicaRange;
  /** What the HPA scales on. @default - no HPA */
  readonly metrics?: readonly HpaMetric[];
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
 *   on the given resource, pods and external metrics, with the given `behavior`, else
 *   {@link DEFAULT_BEHAVIOR} (scale up fast, scale down slowly after a 300 s stabilization window);
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
  /** The HPA's name (the workload's), when the service has one. */
  readonly hpaName?: string;
  /** The VPA's name (the workload's), when the service has one. */
  readonly vpaName?: string;

  constructor(scope: Construct, id: string, props: ServiceAutoscalingProps) {
    super(scope, id);
    const { workload, labels, replicas } = props;
    const targetRef = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name };
    const hpa = replicas.min < replicas.max && props.metrics !== undefined;
    // the resources whose utilisation the HPA scales on
    const scaled = hpa
      ? RESOURCES.filter((r) => props.metrics!.some((m) => m.type === 'resource' && m.resource === r))
      : [];

    if (hpa) {
      const behavior = {
        scaleUp: props.behavior?.scaleUp ?? DEFAULT_BEHAVIOR.scaleUp,
        scaleDown: props.behavior?.scaleDown ?? DEFAULT_BEHAVIOR.scaleDown,
      };
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: { name: workload.name, labels },
        spec: {
          scaleTargetRef: targetRef,
          minReplicas: replicas.min,
          maxReplicas: replicas.max,
          metrics: props.metrics!.map(metricSpec),
          behavior: { scaleUp: scalingRules(behavior.scaleUp), scaleDown: scalingRules(behavior.scaleDown) },
        },
      });
      this.hpaName = workload.name;
      this.node.addValidation({ validate: () => this.replicasLeftToHpa(workload, replicas) });
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
                `${Chart.of(this).node.id}: the VPA of "${workload.name}" updates ${conflicts.join(' and ')} (updateMode ${updateMode}) while its HPA scales on ${conflicts.map((r) => `${r} utilisation`).join(' and ')}: ` +
                  'the VPA raises requests, which lowers the utilisation the HPA sees, so the HPA removes pods and the two fight; ' +
                  "set the VPA's updateMode to Off, leave those resources out of its controlledResources, or scale the HPA on another metric",
              ]
            : [];
        },
      });
    }
  }

  /** The HPA owns `replicas`: a workload that also sets it is re-set by every Argo CD sync. */
  private replicasLeftToHpa(workload: WorkloadRef, range: ReplicaRange): string[] {
    const where = Chart.of(this).node.id;
    if (workload.resource) {
      // the workload construct says what it wrote; no need to render it again
      return workload.replicas === undefined ? [] : [replicasMessage(where, workload, range, workload.replicas)];
    }
    const object = Chart.of(this)
      .node.findAll()
      .find((c): c is ApiObject => c instanceof ApiObject && c.kind === workload.kind && c.name === workload.name);
    if (!object) {
      return [
        `the HPA of "${workload.name}" in ${where} targets ${workload.kind}/${workload.name}, which this chart does not define; point it at the service's workload`,
      ];
    }
    const replicas = (object.toJson() as { spec?: { replicas?: number } }).spec?.replicas;
    return replicas === undefined ? [] : [replicasMessage(where, workload, range, replicas)];
  }
}

const RESOURCES: ReadonlyArray<'cpu' | 'memory'> = ['cpu', 'memory'];

function replicasMessage(where: string, workload: WorkloadRef, range: ReplicaRange, replicas: number): string {
  return (
    `${workload.kind}/${workload.name} in ${where} sets spec.replicas (${replicas}) although an HPA scales it between ${range.min} and ${range.max}; ` +
    'leave replicas out of the workload so that the HPA and Argo CD do not fight over it'
  );
}

function metricSpec(metric: HpaMetric): k8s.MetricSpecV2 {
  switch (metric.type) {
    case 'resource':
      return {
        type: 'Resource',
        resource: {
          name: metric.resource,
          target: { type: 'Utilization', averageUtilization: metric.targetUtilization },
        },
      };
    case 'pods':
      return {
        type: 'Pods',
        pods: {
          metric: { name: metric.metric },
          target: { type: 'AverageValue', averageValue: k8s.Quantity.fromString(metric.targetAverageValue) },
        },
      };
    case 'external': {
      const selector =
        metric.selector && Object.keys(metric.selector).length ? { matchLabels: metric.selector } : undefined;
      const target: k8s.MetricTargetV2 =
        metric.targetValue !== undefined
          ? { type: 'Value', value: k8s.Quantity.fromString(metric.targetValue) }
          : { type: 'AverageValue', averageValue: k8s.Quantity.fromString(metric.targetAverageValue ?? '1') };
      return { type: 'External', external: { metric: { name: metric.metric, selector }, target } };
    }
  }
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
