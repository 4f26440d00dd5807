import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  effectiveBehavior, effectiveVpa, vpaHpaConflictMessage, vpaHpaConflicts,
} from '../config/autoscaling-rules';
import { isAutoscaled, replicaRange } from '../config/model';
import { HpaMetric, ResourceAmounts, ScalingRule, ServiceConfig, TargetConfig } from '../config/types';
import {
  VerticalPodAutoscaler,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode as ContainerPolicyMode,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed as MaxAllowed,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed as MinAllowed,
  VerticalPodAutoscalerSpecUpdatePolicyUpdateMode as UpdateMode,
} from '../imports/vpa-autoscaling.k8s.io';
import { serviceLabels } from './labels';
import { WorkloadRef } from './workload';

export interface ServiceAutoscalingProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /**
   * The workload both autoscalers act on. Its apiVersion and kind are used as they are, so a
   * Deployment, a StatefulSet and an Argo Rollout are all targeted the same way.
   */
  readonly workload: WorkloadRef;
}

/**
 * The autoscalers of one service, from its configuration:
 *
 * - a HorizontalPodAutoscaler (autoscaling/v2) when `replicas` is a range with min < max, scaling
 *   on the configured resource, pods and external metrics, with the service's `behavior`, else the
 *   environment's `autoscaling.behavior`, else {@link DEFAULT_BEHAVIOR} (scale up fast, scale down
 *   slowly after a 300 s stabilization window);
 * - a VerticalPodAutoscaler (autoscaling.k8s.io/v1) when the service has `vpa`. Where an HPA exists
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
    const { config, service, workload } = props;
    const labels = serviceLabels(config, service);
    const targetRef = { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name };

    if (isAutoscaled(service) && service.autoscaling) {
      const { min, max } = replicaRange(service);
      const behavior = effectiveBehavior(config, service);
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: { name: workload.name, labels },
        spec: {
          scaleTargetRef: targetRef,
          minReplicas: min,
          maxReplicas: max,
          metrics: service.autoscaling.metrics.map(metricSpec),
          behavior: { scaleUp: scalingRules(behavior.scaleUp), scaleDown: scalingRules(behavior.scaleDown) },
        },
      });
      this.hpaName = workload.name;
      this.node.addValidation({ validate: () => this.replicasLeftToHpa(config, service, workload) });
    }

    const vpa = effectiveVpa(service);
    if (vpa) {
      const { minAllowed, maxAllowed } = service.vpa ?? {};
      new VerticalPodAutoscaler(this, 'vpa', {
        metadata: { name: workload.name, labels },
        spec: {
          targetRef,
          updatePolicy: { updateMode: vpa.updateMode as UpdateMode },
          resourcePolicy: {
            containerPolicies: [{
              // the service's container is named after the service (constructs/pod-template.ts)
              containerName: service.name,
              controlledResources: vpa.controlledResources,
              minAllowed: quantities(minAllowed, MinAllowed.fromString),
              maxAllowed: quantities(maxAllowed, MaxAllowed.fromString),
            },
            // sidecars keep their configured resources: the VPA's bounds are the service's
            ...(service.sidecars ?? []).map((sc) => ({ containerName: sc.name, mode: ContainerPolicyMode.OFF }))],
          },
        },
      });
      this.vpaName = workload.name;
      this.node.addValidation({
        validate: () => {
          const conflicts = vpaHpaConflicts(service);
          return conflicts.length ? [`${config.target}: ${vpaHpaConflictMessage(service, conflicts)}`] : [];
        },
      });
    }
  }

  /** The HPA owns `replicas`: a workload that also sets it is re-set by every Argo CD sync. */
  private replicasLeftToHpa(config: TargetConfig, service: ServiceConfig, workload: WorkloadRef): string[] {
    if (workload.resource) {
      // the workload construct says what it wrote; no need to render it again
      return workload.replicas === undefined ? [] : [this.replicasMessage(config, service, workload, workload.replicas)];
    }
    const object = Chart.of(this).node.findAll()
      .find((c): c is ApiObject => c instanceof ApiObject && c.kind === workload.kind && c.name === workload.name);
    if (!object) {
      return [`the HPA of "${service.name}" in ${config.target} targets ${workload.kind}/${workload.name}, which this chart does not define; point it at the service's workload`];
    }
    const replicas = (object.toJson() as { spec?: { replicas?: number } }).spec?.replicas;
    return replicas === undefined ? [] : [this.replicasMessage(config, service, workload, replicas)];
  }

  private replicasMessage(config: TargetConfig, service: ServiceConfig, workload: WorkloadRef, replicas: number): string {
    return `${workload.kind}/${workload.name} in ${config.target} sets spec.replicas (${replicas}) although an HPA scales it between ${replicaRange(service).min} and ${replicaRange(service).max}; `
      + 'leave replicas out of the workload so that the HPA and Argo CD do not fight over it';
  }
}

function metricSpec(metric: HpaMetric): k8s.MetricSpecV2 {
  switch (metric.type) {
    case 'resource':
      return { type: 'Resource', resource: { name: metric.resource, target: { type: 'Utilization', averageUtilization: metric.targetUtilization } } };
    case 'pods':
      return {
        type: 'Pods',
        pods: { metric: { name: metric.metric }, target: { type: 'AverageValue', averageValue: k8s.Quantity.fromString(metric.targetAverageValue) } },
      };
    case 'external': {
      const selector = metric.selector && Object.keys(metric.selector).length ? { matchLabels: metric.selector } : undefined;
      const target: k8s.MetricTargetV2 = metric.targetValue !== undefined
        ? { type: 'Value', value: k8s.Quantity.fromString(metric.targetValue) }
        : { type: 'AverageValue', averageValue: k8s.Quantity.fromString(metric.targetAverageValue ?? '1') };
      return { type: 'External', external: { metric: { name: metric.metric, selector }, target } };
    }
  }
}

/** One direction of HPA behaviour: a percent and/or a pods policy; the larger change wins. */
function scalingRules(rule: ScalingRule): k8s.HpaScalingRulesV2 {
  const policies: k8s.HpaScalingPolicyV2[] = [];
  if (rule.percent !== undefined) policies.push({ type: 'Percent', value: rule.percent, periodSeconds: rule.periodSeconds });
  if (rule.pods !== undefined) policies.push({ type: 'Pods', value: rule.pods, periodSeconds: rule.periodSeconds });
  return { stabilizationWindowSeconds: rule.stabilizationWindowSeconds, selectPolicy: 'Max', policies };
}

function quantities<T>(amounts: Partial<ResourceAmounts> | undefined, of: (q: string) => T): Record<string, T> | undefined {
  const entries = Object.entries(amounts ?? {}).filter(([, v]) => v !== undefined) as Array<[string, string]>;
  return entries.length ? Object.fromEntries(entries.map(([k, v]) => [k, of(v)])) : undefined;
}
