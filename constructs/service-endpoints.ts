import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { PortConfig } from '../config/types';

export interface ServiceEndpointsProps {
  /** The Service's name, which is also the DNS name clients use. */
  readonly name: string;
  /** Labels of the Service object. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the pods behind the Service. */
  readonly selector: Record<string, string>;
  /** The ports, each served by the container port of the same name. */
  readonly ports: readonly PortConfig[];
  /** A headless Service (stable per-pod DNS), as a StatefulSet needs. @default false (a ClusterIP) */
  readonly headless?: boolean;
  /**
   * Publish the pods' addresses before they are ready (members of a group find each other before any
   * of them is ready); only for a headless Service. @default false
   */
  readonly publishNotReadyAddresses?: boolean;
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
    this.name = props.name;
    new k8s.KubeService(this, 'resource', {
      metadata: { name: this.name, labels: props.labels },
      spec: {
        type: 'ClusterIP',
        clusterIp: props.headless ? 'None' : undefined,
        // members of a group (service.peers) must find each other before any of them is ready
        publishNotReadyAddresses: props.headless ? (props.publishNotReadyAddresses ?? false) : undefined,
        selector: props.selector,
        ports: props.ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: k8s.IntOrString.fromString(p.name),
          protocol: p.protocol ?? 'TCP',
        })),
      },
    });
  }
}
