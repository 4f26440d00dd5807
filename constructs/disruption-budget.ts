import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';

export interface DisruptionBudgetProps {
  /** The PodDisruptionBudget's name (the service's). */
  readonly name: string;
  /** Labels of the PodDisruptionBudget object. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the pods the budget protects. */
  readonly selector: Record<string, string>;
}

/**
 * A PodDisruptionBudget that protects availability without ever blocking a node drain: it allows
 * one pod at a time to go (`maxUnavailable: 1`), whatever the replica count, so a single-replica
 * service can still be evicted and a scaled-out one loses at most one pod per step. Unhealthy
 * pods may always be evicted, so a crash-looping pod cannot wedge a drain either. That no budget
 * blocks a drain is checked once, over the synthesized objects (pipeline/capacity.ts,
 * `drainBlockers`), for this budget and any other.
 */
export class DisruptionBudget extends Construct {
  /** The number of pods the budget lets a voluntary disruption take at once. */
  readonly maxUnavailable = 1;

  constructor(scope: Construct, id: string, props: DisruptionBudgetProps) {
    super(scope, id);
    const { name } = props;
    new k8s.KubePodDisruptionBudget(this, 'resource', {
      metadata: { name, labels: props.labels },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(this.maxUnavailable),
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
        selector: { matchLabels: props.selector },
      },
    });
  }
}
