import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { FeatureFlag } from '../config/types';
import { FEATURE_FLAGS_CONFIGMAP } from './pod-template';

export interface FeatureFlagsProps {
  /** The environment the flags' states are for, written into the document. */
  readonly environment: string;
  readonly flags: readonly FeatureFlag[];
  /** Labels of the ConfigMap. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
}

/**
 * The `feature-flags` ConfigMap: one key, `flags.yaml`, listing every flag with its state in this
 * environment. Services mount it as a volume, so an edit reaches them without a restart.
 */
export class FeatureFlags extends Construct {
  constructor(scope: Construct, id: string, props: FeatureFlagsProps) {
    super(scope, id);
    const { flags } = props;
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        const names = new Set<string>();
        for (const flag of flags) {
          if (names.has(flag.name))
            errors.push(`feature flag "${flag.name}" is declared twice; flag names must be unique`);
          names.add(flag.name);
          if (!Number.isInteger(flag.rolloutPercent) || flag.rolloutPercent < 0 || flag.rolloutPercent > 100) {
            errors.push(
              `feature flag "${flag.name}": rolloutPercent ${flag.rolloutPercent} must be a whole number 0-100`,
            );
          }
        }
        return errors;
      },
    });
    const document = {
      environment: props.environment,
      flags: flags.map((f) => ({
        name: f.name,
        owner: f.owner,
        enabled: f.enabled,
        // a disabled flag reaches nobody, whatever its rollout
        rolloutPercent: f.enabled ? f.rolloutPercent : 0,
        ...(f.description ? { description: f.description } : {}),
      })),
    };
    new k8s.KubeConfigMap(this, 'resource', {
      metadata: { name: FEATURE_FLAGS_CONFIGMAP, labels: props.labels },
      data: { 'flags.yaml': stringify(document, { lineWidth: 0 }) },
    });
  }
}
