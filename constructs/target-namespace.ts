import { Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { LimitRangeConfig, QuotaConfig, ResourceAmounts } from '../config/types';
import { DEFAULT_EPHEMERAL_STORAGE } from '../config/resources';

export interface TargetNamespaceProps {
  /** The namespace's name. */
  readonly namespace: string;
  /** The Pod Security level enforced, audited and warned, and the version it is pinned to. */
  readonly podSecurity: { readonly level: 'restricted'; readonly version: string };
  readonly quota: QuotaConfig;
  readonly limitRange: LimitRangeConfig;
  /** Labels of the Namespace, quota and LimitRange. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Chart without a namespace, for the cluster-scoped Namespace object. */
  readonly clusterScope: Chart;
  /** Labels of the Namespace object only, such as a service mesh's enrollment label. @default - none */
  readonly namespaceLabels?: Record<string, string>;
}

/**
 * The namespace of a target with its guard rails: Pod Security admission enforcing, auditing and
 * warning at the configured level (version pinned), a ResourceQuota and a LimitRange.
 */
export class TargetNamespace extends Construct {
  constructor(scope: Construct, id: string, props: TargetNamespaceProps) {
    super(scope, id);
    const { level, version } = props.podSecurity;
    new k8s.KubeNamespace(props.clusterScope, 'namespace', {
      metadata: {
        name: props.namespace,
        labels: {
          ...props.labels,
          ...props.namespaceLabels,
          'pod-security.kubernetes.io/enforce': level,
          'pod-security.kubernetes.io/enforce-version': version,
          'pod-security.kubernetes.io/audit': level,
          'pod-security.kubernetes.io/audit-version': version,
          'pod-security.kubernetes.io/warn': level,
          'pod-security.kubernetes.io/warn-version': version,
        },
      },
    });
    const q = props.quota;
    new k8s.KubeResourceQuota(this, 'quota', {
      metadata: { name: 'compute', labels: props.labels },
      spec: {
        hard: {
          'requests.cpu': k8s.Quantity.fromString(q.requests.cpu),
          'requests.memory': k8s.Quantity.fromString(q.requests.memory),
          'limits.cpu': k8s.Quantity.fromString(q.limits.cpu),
          'limits.memory': k8s.Quantity.fromString(q.limits.memory),
          ...(q.requests.ephemeralStorage
            ? { 'requests.ephemeral-storage': k8s.Quantity.fromString(q.requests.ephemeralStorage) }
            : {}),
          ...(q.limits.ephemeralStorage
            ? { 'limits.ephemeral-storage': k8s.Quantity.fromString(q.limits.ephemeralStorage) }
            : {}),
          pods: k8s.Quantity.fromNumber(q.pods),
        },
      },
    });
    const l = props.limitRange;
    new k8s.KubeLimitRange(this, 'limits', {
      metadata: { name: 'container-defaults', labels: props.labels },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: {
              ...amounts(l.defaultRequest),
              'ephemeral-storage': k8s.Quantity.fromString(
                l.defaultRequest.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.request,
              ),
            },
            default: {
              ...amounts(l.default),
              'ephemeral-storage': k8s.Quantity.fromString(
                l.default.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.limit,
              ),
            },
            max: {
              ...amounts(l.max),
              'ephemeral-storage': k8s.Quantity.fromString(l.max.ephemeralStorage ?? DEFAULT_EPHEMERAL_STORAGE.max),
            },
          },
        ],
      },
    });
  }
}

const amounts = (a: ResourceAmounts) => ({
  cpu: k8s.Quantity.fromString(a.cpu),
  memory: k8s.Quantity.fromString(a.memory),
});
