import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { isAutoscaled, replicaRange } from '../config/model';
import { ServiceConfig, TargetConfig } from '../config/types';
import { Rollout, RolloutProps } from '../imports/rollout-argoproj.io';
import { BlueGreenRelease, isBlueGreen } from './blue-green';
import { selectorLabels, serviceLabels } from './labels';
import { DATA_VOLUME, podTemplate, secretNameOf, secretsOf } from './pod-template';

/** What other constructs need to point at a workload (HPA, VPA, PDB, Service). */
export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Labels that select the workload's pods. */
  readonly selector: Record<string, string>;
  /** The workload object itself, when the reference comes from the construct that made it. */
  readonly resource?: ApiObject;
  /** `spec.replicas` as written (undefined when an HPA owns it), when known. */
  readonly replicas?: number;
  /**
   * The second Service in front of the pods, when there is one: the preview Service of a
   * blue/green Rollout, which reaches the new pods while the active one still reaches the old.
   * @default - the pods sit behind one Service only
   */
  readonly previewService?: string;
}

export interface WorkloadProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** Mount a service-account token (only services with a Role). */
  readonly mountServiceAccountToken: boolean;
  /**
   * Name of the Service in front of the workload: the headless Service that governs a
   * StatefulSet, the active Service of a blue/green Rollout.
   */
  readonly governingService: string;
}

/**
 * The workload of a service: a Deployment, or a StatefulSet with volumeClaimTemplates when the
 * service is stateful. When an HPA scales the service, `spec.replicas` is left out so that the
 * HPA and Argo CD never fight over it.
 */
export class Workload extends Construct implements WorkloadRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly selector: Record<string, string>;
  readonly resource: ApiObject;
  readonly replicas?: number;
  readonly previewService?: string;

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const { config, service } = props;
    this.name = service.name;
    this.selector = selectorLabels(config, service);
    const metadata: ApiObjectMetadata = { name: service.name, labels: serviceLabels(config, service), annotations: rotationAnnotations(config, service) };
    const replicas = isAutoscaled(service) ? undefined : replicaRange(service).min;
    this.replicas = replicas;
    const template = podTemplate(config, service, { mountServiceAccountToken: props.mountServiceAccountToken, rollout: service.workload !== 'statefulset' && isBlueGreen(service) });

    if (service.workload === 'statefulset') {
      const set = new k8s.KubeStatefulSet(this, 'resource', {
        metadata,
        spec: {
          serviceName: props.governingService,
          replicas,
          selector: { matchLabels: this.selector },
          // a group that needs a quorum before any member is ready starts all replicas at once
          podManagementPolicy: service.peers?.startTogether ? 'Parallel' : 'OrderedReady',
          updateStrategy: { type: 'RollingUpdate' },
          revisionHistoryLimit: 5,
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template,
          volumeClaimTemplates: service.storage ? [{
            metadata: { name: DATA_VOLUME, labels: selectorLabels(config, service) },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: config.storageClass,
              resources: { requests: { storage: k8s.Quantity.fromString(service.storage.size) } },
            },
          }] : undefined,
        },
      });
      this.apiVersion = set.apiVersion;
      this.kind = set.kind;
      this.resource = set;
    } else if (isBlueGreen(service)) {
      // same pod template and selector as a Deployment; Argo Rollouts switches the Services
      const release = new BlueGreenRelease(this, 'blue-green', { config, service, activeService: props.governingService, selector: this.selector });
      const rollout = new CoreTemplateRollout(this, 'resource', sortedJson(k8s.toJson_PodTemplateSpec(template)), {
        metadata,
        spec: {
          replicas,
          selector: { matchLabels: this.selector },
          revisionHistoryLimit: 5,
          progressDeadlineSeconds: 600,
          strategy: { blueGreen: release.strategy },
        },
      });
      this.apiVersion = rollout.apiVersion;
      this.kind = rollout.kind;
      this.resource = rollout;
      this.previewService = release.previewService;
    } else {
      const deployment = new k8s.KubeDeployment(this, 'resource', {
        metadata,
        spec: {
          replicas,
          selector: { matchLabels: this.selector },
          revisionHistoryLimit: 5,
          progressDeadlineSeconds: 600,
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: {
              maxSurge: intOrString(config.availability.maxSurge),
              maxUnavailable: intOrString(config.availability.maxUnavailable),
            },
          },
          template,
        },
      });
      this.apiVersion = deployment.apiVersion;
      this.kind = deployment.kind;
      this.resource = deployment;
    }
  }
}

/**
 * Secrets reach the containers as environment variables, which a running process cannot re-read:
 * a rotated value (the ExternalSecret refreshes the Secret) must restart the pods. Stakater
 * Reloader does that, with a rolling update of the workload, when the Secret named here changes;
 * it watches only the service's own Secret, so a feature-flag or config edit restarts nothing.
 */
export const RELOAD_SECRET_ANNOTATION = 'secret.reloader.stakater.com/reload';

function rotationAnnotations(config: TargetConfig, service: ServiceConfig): Record<string, string> | undefined {
  return secretsOf(config, service).length ? { [RELOAD_SECRET_ANNOTATION]: secretNameOf(service) } : undefined;
}

export function intOrString(value: string | number): k8s.IntOrString {
  return typeof value === 'number' ? k8s.IntOrString.fromNumber(value) : k8s.IntOrString.fromString(value);
}

/**
 * A Rollout whose pod template is written as core Kubernetes JSON, exactly as a Deployment's.
 * The CRD's generated classes re-encode the template with their own types on output, which drops
 * string ports of probes (`port: http`); so the template is set after that conversion.
 */
class CoreTemplateRollout extends Rollout {
  constructor(scope: Construct, id: string, private readonly podTemplate: unknown, props: RolloutProps) {
    super(scope, id, props);
  }

  override toJson(): any {
    const json = super.toJson();
    return { ...json, spec: { ...json.spec, template: this.podTemplate } };
  }
}

/** A JSON value with object keys sorted and undefined fields dropped, as cdk8s writes its own. */
function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, sortedJson(v)]));
}
