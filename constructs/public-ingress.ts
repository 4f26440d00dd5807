import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PortConfig, ServiceConfig, TargetConfig } from '../config/types';
import { serviceLabels } from './labels';

export interface PublicIngressProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
  /** The Service the Ingress sends traffic to. @default the service's name */
  readonly backendService?: string;
}

/**
 * The port a public service is reached on through the Ingress: its first port that is not
 * `metrics` (NetworkPolicies open the same one to the ingress controller).
 */
export function publicPortOf(service: ServiceConfig): PortConfig {
  return service.ports.find((p) => p.name !== 'metrics') ?? service.ports[0];
}

/**
 * Exposes a public service on the environment's host through ingress-nginx: TLS with a
 * certificate issued by cert-manager, HTTPS redirect, HSTS and per-client rate limiting.
 */
export class PublicIngress extends Construct {
  constructor(scope: Construct, id: string, props: PublicIngressProps) {
    super(scope, id);
    const { config, service } = props;
    const { ingress } = config;
    const port = publicPortOf(service);
    new k8s.KubeIngress(this, 'resource', {
      metadata: {
        name: service.name,
        labels: serviceLabels(config, service),
        annotations: {
          'cert-manager.io/cluster-issuer': ingress.clusterIssuer,
          'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
          // HSTS on this host only; needs allow-snippet-annotations on the controller
          'nginx.ingress.kubernetes.io/configuration-snippet':
            `more_set_headers "Strict-Transport-Security: max-age=${ingress.hstsMaxAgeSeconds}; includeSubDomains";`,
          'nginx.ingress.kubernetes.io/limit-rps': String(ingress.rateLimitRps),
          'nginx.ingress.kubernetes.io/limit-burst-multiplier': '3',
          'nginx.ingress.kubernetes.io/limit-connections': String(Math.max(10, Math.ceil(ingress.rateLimitRps / 2))),
        },
      },
      spec: {
        ingressClassName: ingress.className,
        tls: [{ hosts: [ingress.host], secretName: `${service.name}-tls` }],
        rules: [{
          host: ingress.host,
          http: {
            paths: [{
              path: service.ingressPath ?? '/',
              pathType: 'Prefix',
              backend: { service: { name: props.backendService ?? service.name, port: { name: port.name } } },
            }],
          },
        }],
      },
    });
  }
}
