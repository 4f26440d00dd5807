import { TargetConfig } from '../config/types';
import { hstsControllerSettings, INGRESS_ANNOTATIONS } from '../constructs/public-ingress';
import { Manifest, Obj, ofKind } from '../core/manifest';

/**
 * The "Ingress" section of dist/<target>/README.md: the public hosts, and what the ingress-nginx
 * controller must be configured with for them, since HSTS comes from its ConfigMap rather than
 * from the Ingress (a snippet annotation would be refused by a stock controller).
 */
export function renderIngressSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const ingresses = ofKind(manifests, 'Ingress') as Obj[];
  if (!ingresses.length) return undefined;
  const lines = [
    '## Ingress',
    '',
    '| Ingress | host | TLS secret | issuer | rate limit |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const ingress of ingresses) {
    const a = ingress.metadata.annotations ?? {};
    for (const tls of ingress.spec.tls ?? []) {
      lines.push(
        `| ${ingress.metadata.name} | ${tls.hosts.join(', ')} | ${tls.secretName} | ${a[INGRESS_ANNOTATIONS.clusterIssuer] ?? '-'} | ${a[INGRESS_ANNOTATIONS.limitRps] ?? '-'} rps, ${a[INGRESS_ANNOTATIONS.limitConnections] ?? '-'} connections per client |`,
      );
    }
  }
  const settings = Object.entries(hstsControllerSettings(config)).map(([k, v]) => `  ${k}: "${v}"`);
  lines.push(
    '',
    `HTTP is redirected to HTTPS (\`${INGRESS_ANNOTATIONS.forceSslRedirect}\`). HSTS is not set on the Ingress: the ingress-nginx`,
    `controller in \`${config.ingress.controllerNamespace}\` sends it on every TLS host from its ConfigMap, which must hold (ingress-nginx's`,
    'defaults are `hsts: "true"`, `hsts-max-age: "31536000"`, `hsts-include-subdomains: "true"`; no snippet annotation is used,',
    'since a stock controller refuses them):',
    '',
    '```yaml',
    'data:',
    ...settings,
    '```',
  );
  return lines.join('\n');
}
