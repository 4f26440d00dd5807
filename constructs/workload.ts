import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { ReplicaRange } from '../config/types';
import { Rollout, RolloutProps } from '../imports/rollout-argoproj.io';
import { BlueGreenRelease, BlueGreenReleaseProps } from './blue-green';
import { DATA_VOLUME, podTemplate, PodTemplateProps, revisionLabelOf } from './pod-template';
import type { Obj } from '../core/manifest';

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

/** The pod template of a workload, without what the workload itself decides (labels, selector, revision label). */
export type WorkloadPodProps = Omit<PodTemplateProps, 'labels' | 'selector' | 'revisionLabel' | 'dataMountPath'>;

export interface WorkloadProps {
  /** The workload's name (the service's). */
  readonly name: string;
  /** Labels of the workload object and its pods. */
  readonly labels: Record<string, string>;
  /** Labels that select the pods: stable, a subset of `labels`. */
  readonly selector: Record<string, string>;
  /** Annotations of the workload object (e.g. {@link RELOAD_SECRET_ANNOTATION}). @default none */
  readonly annotations?: Record<string, string>;
  /** The pods. */
  readonly pod: WorkloadPodProps;
  /**
   * How many pods: fixed (`min` = `max`, written to `spec.replicas`), or a range an HPA scales
   * within, in which case `spec.replicas` is left out so that the HPA and Argo CD never fight over it.
   */
  readonly replicas: ReplicaRange;
  /**
   * Name of the Service in front of the workload: the headless Service that governs a
   * StatefulSet, the active Service of a blue/green Rollout.
   */
  readonly governingService: string;
  /** @default 'deployment' */
  readonly kind?: 'deployment' | 'statefulset';
  /** How a Deployment rolls. @default - Kubernetes' defaults (25% surge, 25% unavailable) */
  readonly rollingUpdate?: { readonly maxSurge: string | number; readonly maxUnavailable: string | number };
  /**
   * A volume per pod mounted at `mountPath`: a volumeClaimTemplate of `size` in `storageClass`
   * for a StatefulSet. @default - no data volume
   */
  readonly storage?: { readonly size: string; readonly mountPath: string; readonly storageClass: string };
  /** A StatefulSet whose replicas start and scale all at once (podManagementPolicy Parallel). @default false */
  readonly startTogether?: boolean;
  /**
   * Release a Deployment blue/green: an Argo Rollout with a preview Service, analysis and smoke test
   * (constructs/blue-green.ts). @default - a Deployment rolled by Kubernetes
   */
  readonly blueGreen?: Omit<BlueGreenReleaseProps, 'name' | 'labels' | 'selector' | 'activeService'>;
}

/**
 * The workload of a service: a Deployment, or a StatefulSet with volumeClaimTemplates when the
 * service is stateful, or an Argo Rollout when it is released blue/green. When an HPA scales the
 * service, `spec.replicas` is left out so that the HPA and Argo CD never fight over it.
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
    const kind = props.kind ?? 'deployment';
    const rollout = kind === 'deployment' && props.blueGreen !== undefined;
    this.name = props.name;
    this.selector = props.selector;
    const metadata: ApiObjectMetadata = { name: props.name, labels: props.labels, annotations: props.annotations };
    const { min, max } = props.replicas;
    const replicas = min < max ? undefined : min;
    this.replicas = replicas;
    const template = podTemplate({
      ...props.pod,
      labels: props.labels,
      selector: this.selector,
      dataMountPath: props.storage?.mountPath,
      revisionLabel: revisionLabelOf(rollout ? 'rollout' : kind),
    });

    if (kind === 'statefulset') {
      const set = new k8s.KubeStatefulSet(this, 'resource', {
        metadata,
        spec: {
          serviceName: props.governingService,
          replicas,
          selector: { matchLabels: this.selector },
          // a group that needs a quorum before any member is ready starts all replicas at once
          podManagementPolicy: props.startTogether ? 'Parallel' : 'OrderedReady',
          updateStrategy: { type: 'RollingUpdate' },
          revisionHistoryLimit: 5,
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template,
          volumeClaimTemplates: props.storage
            ? [
                {
                  metadata: { name: DATA_VOLUME, labels: this.selector },
                  spec: {
                    accessModes: ['ReadWriteOnce'],
                    storageClassName: props.storage.storageClass,
                    resources: { requests: { storage: k8s.Quantity.fromString(props.storage.size) } },
                  },
                },
              ]
            : undefined,
        },
      });
      this.apiVersion = set.apiVersion;
      this.kind = set.kind;
      this.resource = set;
    } else if (props.blueGreen) {
      // same pod template and selector as a Deployment; Argo Rollouts switches the Services
      const release = new BlueGreenRelease(this, 'blue-green', {
        ...props.blueGreen,
        name: props.name,
        labels: props.labels,
        activeService: props.governingService,
        selector: this.selector,
      });
      const rolloutObject = new CoreTemplateRollout(
        this,
        'resource',
        sortedJson(k8s.toJson_PodTemplateSpec(template)),
        {
          metadata,
          spec: {
            replicas,
            selector: { matchLabels: this.selector },
            revisionHistoryLimit: 5,
            progressDeadlineSeconds: 600,
            strategy: { blueGreen: release.strategy },
          },
        },
      );
      this.apiVersion = rolloutObject.apiVersion;
      this.kind = rolloutObject.kind;
      this.resource = rolloutObject;
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
            rollingUpdate: props.rollingUpdate
              ? {
                  maxSurge: intOrString(props.rollingUpdate.maxSurge),
                  maxUnavailable: intOrString(props.rollingUpdate.maxUnavailable),
                }
              : undefined,
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

export function intOrString(value: string | number): k8s.IntOrString {
  return typeof value === 'number' ? k8s.IntOrString.fromNumber(value) : k8s.IntOrString.fromString(value);
}

/**
 * A Rollout whose pod template is written as core Kubernetes JSON, exactly as a Deployment's.
 * The CRD's generated classes re-encode the template with their own types on output, which drops
 * string ports of probes (`port: http`); so the template is set after that conversion.
 */
class CoreTemplateRollout extends Rollout {
  constructor(
    scope: Construct,
    id: string,
    private readonly podTemplate: unknown,
    props: RolloutProps,
  ) {
    super(scope, id, props);
  }

  override toJson(): Obj {
    const json = super.toJson();
    return { ...json, spec: { ...json.spec, template: this.podTemplate } };
  }
}

/** A JSON value with object keys sorted and undefined fields dropped, as cdk8s writes its own. */
function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sortedJson(v)]),
  );
}
