import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { effectiveBehavior } from '../config/autoscaling-rules';
import { replicaRange } from '../config/model';
import { replicationOf } from '../config/replication';
import { ServiceConfig, TargetConfig } from '../config/types';
import { ServiceAutoscaling } from '../constructs/autoscaling';
import { DisruptionBudget } from '../constructs/disruption-budget';
import { ServiceNetworkPolicy } from '../constructs/network-policies';
import { ServiceAuthorization } from '../constructs/mesh';
import { ServiceMonitoring } from '../constructs/monitoring';
import { configNameOf, secretNameOf } from '../constructs/pod-template';
import { publicPortOf, PublicIngress } from '../constructs/public-ingress';
import { ServiceApiAccess, usesKubernetesApi } from '../constructs/rbac';
import { ServiceSecrets } from '../constructs/secrets';
import { SentinelReplication } from '../constructs/sentinel-replication';
import { ServiceEndpoints } from '../constructs/service-endpoints';
import { Workload, WorkloadRef } from '../constructs/workload';
import {
  authorizationPropsOf,
  identityOf,
  monitoringPropsOf,
  networkPolicyPropsOf,
  scalingMetricsOf,
  secretsOf,
  sentinelPropsOf,
  workloadPropsOf,
} from './service-props';

export interface TradingServiceProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /**
   * Where the service's cluster-scoped objects go (a ClusterRole for `api` rules with
   * `scope: cluster`). @default - cluster-scoped API access is refused
   */
  readonly clusterScope?: Construct;
}

/**
 * The whole bundle of one service, each concern its own construct: ServiceAccount, config,
 * secrets, workload, Service, PodDisruptionBudget and, when public, an Ingress. What varies
 * between services is data in the configuration, translated here into each construct's narrow
 * props; nothing here depends on a service's name.
 */
export class TradingService extends Construct {
  readonly service: ServiceConfig;
  readonly workload: WorkloadRef;

  constructor(scope: Construct, id: string, props: TradingServiceProps) {
    super(scope, id);
    const { config, service } = props;
    this.service = service;
    const identity = identityOf(config, service);
    const { labels } = identity;
    // only a service that talks to the Kubernetes API gets a token
    const usesApi = usesKubernetesApi(service.api);

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: service.name, labels },
      automountServiceAccountToken: usesApi,
    });
    new ServiceApiAccess(this, 'api-access', {
      name: service.name,
      labels,
      rules: service.api ?? [],
      serviceAccount: service.name,
      namespace: config.namespace,
      clusterScope: props.clusterScope,
    });
    new ServiceNetworkPolicy(this, 'network-policy', networkPolicyPropsOf(config, service));
    const authorization = authorizationPropsOf(config, service);
    if (authorization) new ServiceAuthorization(this, 'authorization', authorization);

    if (service.config && Object.keys(service.config).length) {
      new k8s.KubeConfigMap(this, 'config', {
        metadata: { name: configNameOf(service), labels },
        data: Object.fromEntries(Object.entries(service.config).sort(([a], [b]) => a.localeCompare(b))),
      });
    }
    const secrets = secretsOf(config, service);
    if (secrets.length) {
      new ServiceSecrets(this, 'secrets', { name: secretNameOf(service), labels, secrets, store: config.secretStore });
    }

    const endpoints = new ServiceEndpoints(this, 'endpoints', {
      ...identity,
      ports: service.ports,
      headless: service.workload === 'statefulset',
      publishNotReadyAddresses: service.peers?.discoverBeforeReady,
    });
    if (replicationOf(service, 'sentinel')) new SentinelReplication(this, 'sentinel', sentinelPropsOf(config, service));
    this.workload = new Workload(
      this,
      'workload',
      workloadPropsOf(config, service, { mountServiceAccountToken: usesApi, governingService: endpoints.name }),
    );
    new DisruptionBudget(this, 'disruption-budget', {
      name: service.name,
      labels,
      selector: this.workload.selector,
    });
    new ServiceAutoscaling(this, 'autoscaling', {
      workload: this.workload,
      labels,
      replicas: replicaRange(service),
      metrics: scalingMetricsOf(config, service),
      prometheusUrl: config.monitoring.prometheusUrl,
      behavior: effectiveBehavior(config, service),
      vpa: service.vpa,
      // the service's container is named after the service (charts/service-props.ts)
      container: service.name,
      fixedContainers: (service.sidecars ?? []).map((sc) => sc.name),
    });
    new ServiceMonitoring(this, 'monitoring', monitoringPropsOf(config, service, this.workload));
    if (service.expose === 'public') {
      new PublicIngress(this, 'ingress', {
        name: service.name,
        labels,
        ingress: config.ingress,
        port: publicPortOf(service.ports).name,
        path: service.ingressPath,
      });
    }
  }
}
