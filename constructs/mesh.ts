import { Construct } from 'constructs';
import { PortConfig } from '../config/types';
import {
  AuthorizationPolicy,
  AuthorizationPolicySpecAction,
  AuthorizationPolicySpecRules,
  PeerAuthentication,
  PeerAuthenticationSpecMtlsMode,
} from '../imports/istio-security.istio.io';

/** The annotation Kubernetes documents for saying what an object is for (`kubernetes.io/description`). */
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';

/** The namespace label that enrolls every pod of a namespace in Istio's ambient mesh. */
export const AMBIENT_LABEL = { 'istio.io/dataplane-mode': 'ambient' } as const;

/** Names of the namespace-wide mesh policies; a service's own policies start with the service's name. */
export const PEER_AUTHENTICATION_POLICY = 'default';
export const MESH_DEFAULT_DENY_POLICY = 'default-deny';

/** The SPIFFE identity Istio gives the pods of a ServiceAccount: `<trust domain>/ns/<namespace>/sa/<account>`. */
export function principalOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export interface NamespaceMeshProps {
  /** Labels of the policies. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Mutual TLS between the pods: STRICT refuses every plaintext connection. */
  readonly mtls: 'STRICT';
}

/**
 * Zero trust in the mesh for the target's namespace, as NamespaceNetworkPolicies is for the network:
 * mutual TLS required for every connection to its pods (PeerAuthentication `default`, the name Istio
 * gives a namespace-wide policy), and an ALLOW policy without rules (`default-deny`), so that a pod
 * no service policy selects admits nobody. ServiceAuthorization opens each service to its callers.
 */
export class NamespaceMesh extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceMeshProps) {
    super(scope, id);
    const { labels } = props;
    new PeerAuthentication(this, 'peer-authentication', {
      metadata: { name: PEER_AUTHENTICATION_POLICY, labels },
      spec: { mtls: { mode: PeerAuthenticationSpecMtlsMode[props.mtls] } },
    });
    new AuthorizationPolicy(this, 'default-deny', {
      metadata: {
        name: MESH_DEFAULT_DENY_POLICY,
        labels,
        annotations: {
          [DESCRIPTION_ANNOTATION]:
            'allow-nothing: an ALLOW policy without rules for every pod of the namespace, so a pod that no other policy opens admits no connection (deny by default)',
        },
      },
      spec: { action: AuthorizationPolicySpecAction.ALLOW },
    });
  }
}

/** Identities admitted to ports: the callers of a service, or one exception. */
export interface MeshGrant {
  /** SPIFFE identities (`principalOf`) admitted. */
  readonly principals: readonly string[];
  /** The ports they may connect to (TCP: ztunnel carries TCP only). */
  readonly ports: readonly PortConfig[];
}

/** A caller that is not a service of the graph (Prometheus, the ingress controller, a release's smoke test), in a policy of its own. */
export interface MeshException extends MeshGrant {
  /** What the policy's name adds to the service's: `<service>-<name>`. */
  readonly name: string;
  /** Why the exception exists, written on the policy (`kubernetes.io/description`). */
  readonly why: string;
}

export interface ServiceAuthorizationProps {
  /** The service's name: its policy's, and the prefix of its exceptions'. */
  readonly name: string;
  /** Labels of the policies. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels selecting the service's pods. */
  readonly selector: Record<string, string>;
  /** The service's callers from the service graph, each with the ports it may call. @default - nobody */
  readonly callers?: readonly MeshGrant[];
  /** Callers from outside the graph, each in its own named policy. @default - none */
  readonly exceptions?: readonly MeshException[];
}

/**
 * Who may connect to a service's pods through the mesh, as ALLOW AuthorizationPolicies that ztunnel
 * enforces (layer 4 only: principals and ports, no method or path, which would need a waypoint):
 * the service's policy (its own name) admits its callers' identities on the ports they declared;
 * each exception is a policy of its own, named for what it is. A service without callers keeps
 * its policy with no rules, which admits nobody, and says so.
 */
export class ServiceAuthorization extends Construct {
  constructor(scope: Construct, id: string, props: ServiceAuthorizationProps) {
    super(scope, id);
    const { name, labels, selector } = props;
    const callers = props.callers ?? [];
    this.node.addValidation({
      validate: () =>
        [...callers, ...(props.exceptions ?? [])].flatMap((g) => {
          const problems: string[] = [];
          if (!g.principals.length)
            problems.push(`AuthorizationPolicy "${name}": a grant names no principal; say whose identity it admits`);
          if (!g.ports.length)
            problems.push(`AuthorizationPolicy "${name}": a grant names no port; an empty list would admit every port`);
          const udp = g.ports.filter((p) => (p.protocol ?? 'TCP') !== 'TCP');
          if (udp.length)
            problems.push(
              `AuthorizationPolicy "${name}": ${udp.map((p) => `${p.name} (${p.port}/${p.protocol})`).join(', ')} is not TCP; ztunnel carries TCP only, so the NetworkPolicy alone governs it`,
            );
          return problems;
        }),
    });
    const rule = (g: MeshGrant): AuthorizationPolicySpecRules => ({
      from: [{ source: { principals: [...g.principals] } }],
      to: [{ operation: { ports: [...new Set(g.ports.map((p) => String(p.port)))] } }],
    });
    new AuthorizationPolicy(this, 'callers', {
      metadata: {
        name,
        labels,
        annotations: callers.length
          ? undefined
          : {
              [DESCRIPTION_ANNOTATION]: `allow-nothing: no service declares "${name}" in its dependsOn, so no caller of the service graph is admitted (deny by default)${props.exceptions?.length ? `; ${props.exceptions.map((e) => `${name}-${e.name}`).join(', ')} admit only their exceptions` : ''}`,
            },
      },
      spec: {
        selector: { matchLabels: selector },
        action: AuthorizationPolicySpecAction.ALLOW,
        rules: callers.length ? callers.map(rule) : undefined,
      },
    });
    for (const exception of props.exceptions ?? []) {
      new AuthorizationPolicy(this, `exception-${exception.name}`, {
        metadata: {
          name: `${name}-${exception.name}`,
          labels,
          annotations: { [DESCRIPTION_ANNOTATION]: exception.why },
        },
        spec: {
          selector: { matchLabels: selector },
          action: AuthorizationPolicySpecAction.ALLOW,
          rules: [rule(exception)],
        },
      });
    }
  }
}
