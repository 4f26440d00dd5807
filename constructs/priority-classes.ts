import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { PriorityClassConfig } from '../config/types';

export interface PriorityClassesProps {
  readonly classes: readonly PriorityClassConfig[];
  /** Labels of the PriorityClasses. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
}

/** The PriorityClasses services refer to (cluster-scoped; create in a chart without a namespace). */
export class PriorityClasses extends Construct {
  constructor(scope: Construct, id: string, props: PriorityClassesProps) {
    super(scope, id);
    for (const pc of props.classes) {
      new k8s.KubePriorityClass(this, pc.name, {
        metadata: { name: pc.name, labels: props.labels },
        value: pc.value,
        globalDefault: false,
        preemptionPolicy: 'PreemptLowerPriority',
        description: pc.description,
      });
    }
  }
}
