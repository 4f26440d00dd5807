import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { isAutoscaled, replicaRange } from '../config/rules';
import { ServiceConfig, TargetConfig } from '../config/types';
import { selectorLabels, serviceLabels } from './labels';
import { DATA_VOLUME, podTemplate } from './pod-template';

/** What other constructs need to point at a workload (HPA, VPA, PDB, Service). */
export interface WorkloadRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Labels that select the workload's pods. */
  readonly selector: Record<string, string>;
}

export interface WorkloadProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** Mount a service-account token (only services with a Role). */
  readonly mountServiceAccountToken: boolean;
  /** Name of the headless Service that governs a StatefulSet. */
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

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const { config, service } = props;
    this.name = service.name;
    this.selector = selectorLabels(config, service);
    const metadata: ApiObjectMetadata = { name: service.name, labels: serviceLabels(config, service) };
    const replicas = isAutoscaled(service) ? undefined : replicaRange(service).min;
    const template = podTemplate(config, service, { mountServiceAccountToken: props.mountServiceAccountToken });

    if (service.workload === 'statefulset') {
      const set = new k8s.KubeStatefulSet(this, 'resource', {
        metadata,
        spec: {
          serviceName: props.governingService,
          replicas,
          selector: { matchLabels: this.selector },
          podManagementPolicy: 'OrderedReady',
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
    }
  }
}

export function intOrString(value: string | number): k8s.IntOrString {
  return typeof value === 'number' ? k8s.IntOrString.fromNumber(value) : k8s.IntOrString.fromString(value);
}
