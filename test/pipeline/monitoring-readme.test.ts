import { Manifest, ofKind } from '../../core/manifest';
import { renderMonitoringSection } from '../../pipeline/monitoring-readme';
import { configOf, manifestsOf, TARGETS } from '../helpers';

type Obj = Record<string, any>;

/** The rows of the alerts table: alert, severity, for, services, reason. */
function alertRows(
  section: string,
): Array<{ alert: string; severity: string; for: string; services: string; reason: string }> {
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| alert |') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(/ \| /))
    .map(([alert, severity, forWindow, services, ...reason]) => ({
      alert,
      severity,
      for: forWindow,
      services,
      reason: reason.join(' | '),
    }));
}

describe.each(TARGETS)('the alerts table of the README of %s', (target) => {
  const manifests = manifestsOf(target);
  const section = renderMonitoringSection(manifests)!;
  const rows = alertRows(section);
  const rules = ofKind(manifests, 'PrometheusRule') as Obj[];
  const alerts = rules.flatMap((r) =>
    (r.spec.groups as Obj[]).flatMap((g) =>
      (g.rules as Obj[]).filter((x) => x.alert).map((x) => ({ service: r.metadata.name as string, rule: x })),
    ),
  );
  const servicesOf = (cell: string) =>
    cell.startsWith('all ') ? rules.map((r) => r.metadata.name as string) : cell.split(', ');

  it('writes each reason once, with every service it applies to', () => {
    const reasons = rows.map((r) => `${r.alert}|${r.severity}|${r.for}|${r.reason}`);
    expect(new Set(reasons).size).toBe(reasons.length);
    // a standard alert every scraped service has (crash looping) is a single row
    expect(rows.filter((r) => r.alert === 'PodCrashLooping')).toHaveLength(1);
    expect(rows.length).toBeLessThan(alerts.length / 2);
  });

  it('still lists every alert of every service, with its severity and reason', () => {
    const listed = rows
      .flatMap((r) =>
        servicesOf(r.services).map((s) => `${s}/${r.alert}/${r.severity}/${r.for}/${r.reason.replace(/\\\|/g, '|')}`),
      )
      .sort();
    const expected = alerts
      .map(({ service, rule }) => {
        const windows = rule.labels.long_window
          ? ` (${rule.labels.burn_rate}x, ${rule.labels.long_window}/${rule.labels.short_window})`
          : '';
        return `${service}/${rule.alert}${windows}/${rule.labels.severity}/${rule.for ?? '-'}/${rule.annotations.threshold_reason}`;
      })
      .sort();
    expect(listed).toEqual(expected);
  });

  it('cites, for a latency alert, only the setting the service uses', () => {
    const config = configOf(target);
    for (const row of rows.filter((r) => /^(HTTP)?LatencyHigh$/.test(r.alert))) {
      for (const name of servicesOf(row.services)) {
        const alerts = config.services[name].monitoring?.alerts ?? {};
        const used = alerts.latencyP95Seconds !== undefined ? 'latencyP95Seconds' : 'latencyMeanSeconds';
        const unused = used === 'latencyP95Seconds' ? 'latencyMeanSeconds' : 'latencyP95Seconds';
        expect([name, row.reason]).toEqual([name, expect.stringContaining(`alerts.${used}`)]);
        expect([name, row.reason]).toEqual([name, expect.not.stringContaining(unused)]);
      }
    }
  });
});

it('cites latencyMeanSeconds for a service alerted on a mean latency (redis)', () => {
  const manifests: Manifest[] = manifestsOf('staging');
  const redis = alertRows(renderMonitoringSection(manifests)!).find(
    (r) => r.alert === 'LatencyHigh' && r.services.split(', ').includes('redis'),
  );
  expect(redis?.reason).toContain('services.redis.monitoring.alerts.latencyMeanSeconds');
  expect(redis?.reason).not.toContain('latencyP95Seconds');
});
