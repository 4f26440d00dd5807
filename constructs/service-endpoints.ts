import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ServiceConfig, TargetConfig } from '../config/types';
import { selectorLabels, serviceLabels } from './labels';

export interface ServiceEndpointsProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** Labels selecting the pods behind the Service. @default the service's selector labels */
  readonly selector?: Record<string, string>;
  /** The Service's name. @default the service's name */
  readonly name?: string;
  /** Labels of the Service object. @default the service's labels */
  readonly labels?: Record<string, string>;
}

/**
 * The in-cluster address of a service: a ClusterIP Service, or a headless one for stateful
 * services (stable per-pod DNS), with every declared port by name.
 */
export class ServiceEndpoints extends Construct {
  /** The Service's name, which is also the DNS name clients use. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: ServiceEndpointsProps) {
    super(scope, id);
    const { config, service } = props;
    this.name = props.name ?? service.name;
    new k8s.KubeService(this, 'resource', {
      metadata: { name: this.name, labels: props.labels ?? serviceLabels(config, service) },
      spec: {
        type: 'ClusterIP',
        clusterIp: service.workload === 'statefulset' ? 'None' : undefined,
        // members of a group (service.peers) must find each other before any of them is ready
        publishNotReadyAddresses: service.workload === 'statefulset' ? service.peers?.discoverBeforeReady ?? false : undefined,
        selector: props.selector ?? selectorLabels(config, service),
        ports: service.ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: k8s.IntOrString.fromString(p.name),
          protocol: p.protocol ?? 'TCP',
        })),
      },
    });
  }
}
