import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ExternalPeer, TargetConfig } from '../config/types';
import { LABEL, sharedLabels } from './labels';

export interface ExternalPeerServiceProps {
  readonly config: TargetConfig;
  readonly peer: ExternalPeer;
}

/**
 * An ExternalName Service for a peer outside the cluster (e.g. the managed database), so that
 * workloads use one stable in-cluster name in every environment.
 */
export class ExternalPeerService extends Construct {
  constructor(scope: Construct, id: string, props: ExternalPeerServiceProps) {
    super(scope, id);
    const { config, peer } = props;
    new k8s.KubeService(this, 'resource', {
      metadata: { name: peer.name, labels: { ...sharedLabels(config, 'external'), [LABEL.name]: peer.name } },
      spec: {
        type: 'ExternalName',
        externalName: peer.externalName,
        ports: peer.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
      },
    });
  }
}
