import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { TargetConfig } from '../config/types';
import { sharedLabels } from './labels';

export interface PriorityClassesProps {
  readonly config: TargetConfig;
}

/** The PriorityClasses services refer to (cluster-scoped; create in a chart without a namespace). */
export class PriorityClasses extends Construct {
  constructor(scope: Construct, id: string, props: PriorityClassesProps) {
    super(scope, id);
    for (const pc of Object.values(props.config.priorityClasses)) {
      new k8s.KubePriorityClass(this, pc.name, {
        metadata: { name: pc.name, labels: sharedLabels(props.config, 'scheduling') },
        value: pc.value,
        globalDefault: false,
        preemptionPolicy: 'PreemptLowerPriority',
        description: pc.description,
      });
    }
  }
}
