import { Manifest, ofKind } from './manifest';
import { registerReadmeSection } from './target-readme';

type Obj = Record<string, any>;

/**
 * The "Monitoring" section of dist/<target>/README.md: what Prometheus scrapes, every alert with
 * its severity, `for:` window and the reason for its threshold, and where alerts are routed.
 */
export function renderMonitoringSection(manifests: readonly Manifest[]): string | undefined {
  const rules = ofKind(manifests, 'PrometheusRule');
  if (!rules.length) return undefined;
  const lines = ['## Monitoring', ''];
  const services = ofKind(manifests, 'ServiceMonitor') as Obj[];
  const pods = ofKind(manifests, 'PodMonitor') as Obj[];
  const every = (monitors: Obj[], endpoints: string) => monitors.map((m) => `${m.metadata.name} every ${m.spec[endpoints][0].interval}`).join(', ');
  if (services.length) {
    lines.push(`Scraped by Prometheus through their Service (ServiceMonitor, port \`metrics\`): ${every(services, 'endpoints')}.`, '');
  }
  if (pods.length) {
    lines.push(`Scraped by Prometheus on every pod, stable and preview alike (PodMonitor, port \`metrics\`, \`job\` from \`app.kubernetes.io/name\`): ${every(pods, 'podMetricsEndpoints')}.`, '');
  }
  lines.push('| service | alert | severity | for | why this threshold |', '| --- | --- | --- | --- | --- |');
  for (const rule of rules as Obj[]) {
    for (const group of rule.spec.groups as Obj[]) {
      for (const r of (group.rules as Obj[]).filter((x) => x.alert)) {
        const windows = r.labels.long_window ? ` (${r.labels.burn_rate}x, ${r.labels.long_window}/${r.labels.short_window})` : '';
        lines.push(`| ${rule.metadata.name} | ${r.alert}${windows} | ${r.labels.severity} | ${r.for ?? '-'} | ${String(r.annotations.threshold_reason).replace(/\|/g, '\\|')} |`);
      }
    }
  }
  const routing = manifests.find((m) => m.kind === 'AlertmanagerConfig') as Obj | undefined;
  lines.push('');
  if (routing) {
    const routes = (routing.spec.route.routes as Obj[]).map((r) => `${r.matchers[0].value.split('|').join(' and ')} → ${r.receiver}`);
    lines.push(`Alert routing (AlertmanagerConfig \`${routing.metadata.name}\`): ${routes.join('; ')}. Receiver keys come from the ExternalSecret \`alertmanager-receivers\`.`);
  } else {
    lines.push('Alert routing: none in this environment (no `monitoring.alerting`).');
  }
  lines.push('', 'Grafana dashboards: one ConfigMap `<service>-dashboard` per service for the Grafana sidecar.');
  return lines.join('\n');
}

registerReadmeSection(60, (_config, manifests) => renderMonitoringSection(manifests));
