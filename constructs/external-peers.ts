import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { ExternalPeer } from '../config/types';

export interface ExternalPeerServiceProps {
  /** The peer: the Service takes its name and ports, and points at its `externalName`. */
  readonly peer: Pick<ExternalPeer, 'name' | 'ports'> & { readonly externalName: string };
  /** Labels of the Service. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
}

/**
 * An ExternalName Service for a peer outside the cluster (e.g. the managed database), so that
 * workloads use one stable in-cluster name in every environment.
 */
export class ExternalPeerService extends Construct {
  constructor(scope: Construct, id: string, props: ExternalPeerServiceProps) {
    super(scope, id);
    const { peer } = props;
    new k8s.KubeService(this, 'resource', {
      metadata: { name: peer.name, labels: props.labels },
      spec: {
        type: 'ExternalName',
        externalName: peer.externalName,
        ports: peer.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
      },
    });
  }
}
