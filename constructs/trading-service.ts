import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ServiceConfig, TargetConfig } from '../config/types';
import { ServiceAutoscaling } from './autoscaling';
import { DisruptionBudget } from './disruption-budget';
import { serviceLabels } from './labels';
import { ServiceNetworkPolicy } from './network-policies';
import { ServiceMonitoring } from './monitoring';
import { configNameOf, secretsOf } from './pod-template';
import { PublicIngress } from './public-ingress';
import { ServiceApiAccess } from './rbac';
import { ServiceSecrets } from './secrets';
import { ServiceEndpoints } from './service-endpoints';
import { Workload, WorkloadRef } from './workload';

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
 * between services is data in the configuration; nothing here depends on a service's name.
 */
export class TradingService extends Construct {
  readonly service: ServiceConfig;
  readonly workload: WorkloadRef;

  constructor(scope: Construct, id: string, props: TradingServiceProps) {
    super(scope, id);
    const { config, service } = props;
    this.service = service;
    const labels = serviceLabels(config, service);
    // only a service that talks to the Kubernetes API gets a token
    const usesApi = (service.api ?? []).length > 0;

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: service.name, labels },
      automountServiceAccountToken: usesApi,
    });
    new ServiceApiAccess(this, 'api-access', { config, service, serviceAccount: service.name, clusterScope: props.clusterScope });
    new ServiceNetworkPolicy(this, 'network-policy', { config, service });

    if (service.config && Object.keys(service.config).length) {
      new k8s.KubeConfigMap(this, 'config', {
        metadata: { name: configNameOf(service), labels },
        data: Object.fromEntries(Object.entries(service.config).sort(([a], [b]) => a.localeCompare(b))),
      });
    }
    if (secretsOf(config, service).length) {
      new ServiceSecrets(this, 'secrets', { config, service });
    }

    const endpoints = new ServiceEndpoints(this, 'endpoints', { config, service });
    this.workload = new Workload(this, 'workload', {
      config, service, mountServiceAccountToken: usesApi, governingService: endpoints.name,
    });
    new DisruptionBudget(this, 'disruption-budget', { config, service, selector: this.workload.selector });
    new ServiceAutoscaling(this, 'autoscaling', { config, service, workload: this.workload });
    new ServiceMonitoring(this, 'monitoring', { config, service, workload: this.workload });
    if (service.expose === 'public') {
      new PublicIngress(this, 'ingress', { config, service });
    }
  }
}
