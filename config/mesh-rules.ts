import { PathSegment, show } from './errors';
import { meshOf } from './model';
import { TargetConfig } from './types';

type At = (p: PathSegment[], message: string) => void;

/**
 * The ports ztunnel listens on inside every pod of an ambient namespace (Istio's in-pod traffic
 * redirection): outbound capture, inbound plaintext, inbound HBONE (the tunnel between pods, which
 * NetworkPolicies must open) and the DNS proxy. A container port among them would collide.
 */
export const MESH_POD_PORTS: Readonly<Record<number, string>> = {
  15001: 'outbound capture',
  15006: 'inbound plaintext',
  15008: 'HBONE, the mutual TLS tunnel between pods',
  15053: 'DNS proxy',
};

/** The port of HBONE, Istio ambient's mutual TLS tunnel: every connection between meshed pods travels on it. */
export const HBONE_PORT = 15008;

/**
 * The address ztunnel gives the kubelet's probes (it SNATs them, so that a STRICT namespace can still
 * let them in, unencrypted): a NetworkPolicy must admit it on the probe ports (Istio's "Ambient and
 * Kubernetes NetworkPolicy").
 */
export const PROBE_SNAT_ADDRESS = '169.254.7.127';

/**
 * The namespaces whose pods are in a target's ambient mesh: the target's own, Prometheus' and the
 * ingress controller's (which the platform enrolls with it). Connections to pods anywhere else (a
 * tracing collector in its own namespace, say) leave the mesh and travel on their own port.
 */
export function meshNamespacesOf(
  config: Pick<TargetConfig, 'namespace' | 'monitoring' | 'ingress'>,
): ReadonlySet<string> {
  return new Set([config.namespace, config.monitoring.namespace, config.ingress.controllerNamespace]);
}

/**
 * The service mesh a target may turn on (`mesh`): ambient mode only, because Pod Security
 * `restricted` (which every namespace enforces) refuses the `istio-init` container that sidecar
 * injection adds, with NET_ADMIN and NET_RAW to rewrite the pod's iptables; and no container port
 * that ztunnel itself listens on in the pod.
 */
export function checkMeshRules(config: TargetConfig, at: At): void {
  if (config.mesh?.mode === 'sidecar') {
    at(
      ['mesh', 'mode'],
      `"sidecar" cannot run under Pod Security "${config.podSecurity.level}" (podSecurity.level): Istio injects an istio-init container that needs the NET_ADMIN and NET_RAW capabilities to redirect the pod's traffic, and "restricted" allows no capability but NET_BIND_SERVICE, so every pod would be refused. Use mode: ambient (ztunnel on each node carries the traffic, the pods are unchanged) or mode: off`,
    );
  }
  if (!meshOf(config)) return;
  for (const service of Object.values(config.services)) {
    service.ports.forEach((port, i) => {
      const use = MESH_POD_PORTS[port.port];
      if (use)
        at(
          ['services', service.name, 'ports', i, 'port'],
          `${show(port.port)} is a port ztunnel listens on inside every pod of the mesh (${use}); port "${port.name}" of service "${service.name}" would collide with it. Use a port outside ${Object.keys(MESH_POD_PORTS).join(', ')}`,
        );
    });
  }
}
