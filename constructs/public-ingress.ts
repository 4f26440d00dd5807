import { k8s } from '../imports/k8s';
import { Construct } from 'constructs';
import { IngressConfig, PortConfig } from '../config/types';

export interface PublicIngressProps {
  /** The Ingress's name (the service's); its TLS Secret is `<name>-tls`. */
  readonly name: string;
  /** Labels of the Ingress object. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** The environment's ingress: class, host, certificate issuer and per-client rate limit. */
  readonly ingress: Pick<IngressConfig, 'className' | 'host' | 'clusterIssuer' | 'rateLimitRps'>;
  /** The name of the Service port traffic goes to (see `publicPortOf`). */
  readonly port: string;
  /** Path prefix on the host. @default '/' */
  readonly path?: string;
  /** The Service the Ingress sends traffic to. @default the Ingress's name */
  readonly backendService?: string;
}

/**
 * The port a public service is reached on through the Ingress: its first port that is not
 * `metrics` (NetworkPolicies open the same one to the ingress controller).
 */
export function publicPortOf(ports: readonly PortConfig[]): PortConfig {
  return ports.find((p) => p.name !== 'metrics') ?? ports[0];
}

/**
 * The ingress-nginx controller ConfigMap settings HSTS comes from. ingress-nginx sends
 * `Strict-Transport-Security` on every TLS host by default (`hsts: "true"`,
 * `hsts-include-subdomains: "true"`, `hsts-max-age: "31536000"`); nothing on the Ingress sets it.
 * A per-Ingress header would need `configuration-snippet`, which a stock controller refuses
 * (`allow-snippet-annotations` is false, and the admission webhook rejects it, since v1.9).
 */
export function hstsControllerSettings(config: {
  readonly ingress: Pick<IngressConfig, 'hstsMaxAgeSeconds'>;
}): Record<string, string> {
  return { hsts: 'true', 'hsts-max-age': String(config.ingress.hstsMaxAgeSeconds), 'hsts-include-subdomains': 'true' };
}

/** The annotations of a public Ingress that a policy check requires. */
export const INGRESS_ANNOTATIONS = {
  clusterIssuer: 'cert-manager.io/cluster-issuer',
  forceSslRedirect: 'nginx.ingress.kubernetes.io/force-ssl-redirect',
  limitRps: 'nginx.ingress.kubernetes.io/limit-rps',
  limitConnections: 'nginx.ingress.kubernetes.io/limit-connections',
} as const;

/**
 * Exposes a public service on the environment's host through ingress-nginx: TLS with a
 * certificate issued by cert-manager, HTTPS forced (plain HTTP is redirected), per-client rate
 * limiting, and HSTS from the controller's own settings (see `hstsControllerSettings`). Uses only
 * annotations a stock ingress-nginx accepts: no snippets.
 */
export class PublicIngress extends Construct {
  constructor(scope: Construct, id: string, props: PublicIngressProps) {
    super(scope, id);
    const { name, ingress } = props;
    new k8s.KubeIngress(this, 'resource', {
      metadata: {
        name,
        labels: props.labels,
        annotations: {
          [INGRESS_ANNOTATIONS.clusterIssuer]: ingress.clusterIssuer,
          // redirects HTTP to HTTPS, also where TLS terminates before the controller
          [INGRESS_ANNOTATIONS.forceSslRedirect]: 'true',
          [INGRESS_ANNOTATIONS.limitRps]: String(ingress.rateLimitRps),
          'nginx.ingress.kubernetes.io/limit-burst-multiplier': '3',
          [INGRESS_ANNOTATIONS.limitConnections]: String(Math.max(10, Math.ceil(ingress.rateLimitRps / 2))),
        },
      },
      spec: {
        ingressClassName: ingress.className,
        tls: [{ hosts: [ingress.host], secretName: `${name}-tls` }],
        rules: [
          {
            host: ingress.host,
            http: {
              paths: [
                {
                  path: props.path ?? '/',
                  pathType: 'Prefix',
                  backend: { service: { name: props.backendService ?? name, port: { name: props.port } } },
                },
              ],
            },
          },
        ],
      },
    });
  }
}
