import { Manifest, Obj, ofKind } from '../core/manifest';

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
  const every = (monitors: Obj[], endpoints: string) =>
    monitors.map((m) => `${m.metadata.name} every ${m.spec[endpoints][0].interval}`).join(', ');
  if (services.length) {
    lines.push(
      `Scraped by Prometheus through their Service (ServiceMonitor, port \`metrics\`): ${every(services, 'endpoints')}.`,
      '',
    );
  }
  if (pods.length) {
    lines.push(
      `Scraped by Prometheus on every pod, stable and preview alike (PodMonitor, port \`metrics\`, \`job\` from \`app.kubernetes.io/name\`): ${every(pods, 'podMetricsEndpoints')}.`,
      '',
    );
  }
  // one row per alert, severity, window and reason, listing the services it applies to: the
  // standard alerts (crash looping, memory, ...) read once instead of once per service
  const rows = new Map<string, { alert: string; severity: string; for: string; reason: string; services: string[] }>();
  for (const rule of rules as Obj[]) {
    for (const group of rule.spec.groups as Obj[]) {
      for (const r of (group.rules as Obj[]).filter((x) => x.alert)) {
        const windows = r.labels.long_window
          ? ` (${r.labels.burn_rate}x, ${r.labels.long_window}/${r.labels.short_window})`
          : '';
        const row = {
          alert: `${r.alert}${windows}`,
          severity: String(r.labels.severity),
          for: String(r.for ?? '-'),
          reason: String(r.annotations.threshold_reason),
        };
        const key = JSON.stringify(row);
        const entry = rows.get(key) ?? { ...row, services: [] };
        entry.services.push(rule.metadata.name);
        rows.set(key, entry);
      }
    }
  }
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  lines.push('| alert | severity | for | services | why this threshold |', '| --- | --- | --- | --- | --- |');
  for (const row of [...rows.values()].sort(
    (a, b) => a.alert.localeCompare(b.alert) || a.services[0].localeCompare(b.services[0]),
  )) {
    const services =
      row.services.length === rules.length && rules.length > 1 ? `all ${rules.length}` : row.services.join(', ');
    lines.push(`| ${row.alert} | ${row.severity} | ${row.for} | ${services} | ${cell(row.reason)} |`);
  }
  const routing = manifests.find((m) => m.kind === 'AlertmanagerConfig') as Obj | undefined;
  lines.push('');
  if (routing) {
    const routes = (routing.spec.route.routes as Obj[]).map(
      (r) => `${r.matchers[0].value.split('|').join(' and ')} → ${r.receiver}`,
    );
    lines.push(
      `Alert routing (AlertmanagerConfig \`${routing.metadata.name}\`): ${routes.join('; ')}. Receiver keys come from the ExternalSecret \`alertmanager-receivers\`.`,
    );
  } else {
    lines.push('Alert routing: none in this environment (no `monitoring.alerting`).');
  }
  lines.push('', 'Grafana dashboards: one ConfigMap `<service>-dashboard` per service for the Grafana sidecar.');
  return lines.join('\n');
}
