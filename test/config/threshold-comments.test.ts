import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { load } from 'js-yaml';
import { thresholdsOf as thresholdsOfText } from '../../config/threshold-comments';
import { configIssues, copyEnvironments, edit, ENVIRONMENTS, ROOT, runSynth, treeDigest } from '../helpers';

/**
 * STYLE.md, "Alerts": every threshold carries a comment with its reason. The alerts'
 * `threshold_reason` annotations point at these comments, so each threshold of environments/
 * (and of every example) must have a comment on its line or on the line(s) right above it; a
 * block of monitoring.thresholds may instead carry its reason as a `reason` key, which is
 * written to the annotation itself. Synth refuses a file that breaks this (config/threshold-comments.ts).
 */
interface Threshold {
  readonly file: string;
  readonly line: number;
  readonly path: string;
  readonly commented: boolean;
}

export function thresholdsOf(file: string): Threshold[] {
  const text = fs.readFileSync(file, 'utf8');
  return thresholdsOfText(text, (load(text) ?? {}) as Record<string, unknown>).map((t) => ({
    ...t,
    file: path.relative(ROOT, file),
  }));
}

const folders = [
  ENVIRONMENTS,
  ...fs
    .readdirSync(path.join(ROOT, 'examples'))
    .map((e) => path.join(ROOT, 'examples', e, 'environments'))
    .filter((d) => fs.existsSync(d)),
];
const files = folders.flatMap((d) =>
  fs
    .readdirSync(d)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(d, f)),
);

describe('every threshold in environments/ says why', () => {
  it('finds the thresholds it checks (latency, staleness, SLOs and the standard block)', () => {
    const found = thresholdsOf(path.join(ENVIRONMENTS, 'defaults.yaml')).map((t) => t.path);
    expect(found).toEqual(
      expect.arrayContaining([
        'services.data-service.monitoring.alerts.latencyP95Seconds',
        'services.data-service.monitoring.alerts.marketDataStaleSeconds',
        'services.signal-service.monitoring.alerts.latencyP95Seconds',
        'services.orchestrator.monitoring.alerts.latencyP95Seconds',
        'services.gateway.monitoring.slo.availability',
        'services.execution-gateway.monitoring.alerts.orderLatency.thresholdSeconds',
        'monitoring.thresholds.memory.ratio',
        'monitoring.thresholds.httpErrors.critical',
      ]),
    );
    expect(thresholdsOf(path.join(ENVIRONMENTS, 'production.yaml')).map((t) => t.path)).toContain(
      'services.execution-gateway.monitoring.slo.availability',
    );
  });

  it('reports a threshold without a comment', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thr-'));
    const file = path.join(dir, 'x.yaml');
    fs.writeFileSync(
      file,
      'services:\n  a:\n    monitoring:\n      alerts:\n        # why\n        latencyP95Seconds: 0.1\n        drawdownRatio: 0.05\n',
    );
    expect(thresholdsOf(file).map((t) => `${t.path}: ${t.commented}`)).toEqual([
      'services.a.monitoring.alerts.latencyP95Seconds: true',
      'services.a.monitoring.alerts.drawdownRatio: false',
    ]);
  });

  it.each(files.map((f) => [path.relative(ROOT, f), f]))(
    '%s: every threshold has a comment on its line or the line above',
    (_, file) => {
      const missing = thresholdsOf(file)
        .filter((t) => !t.commented)
        .map((t) => `${t.file}:${t.line}: ${t.path} has no comment saying why (add one on its line or the line above)`);
      expect(missing).toEqual([]);
    },
  );

  it('counts a comment above the block, a reason key of a standard block and one-line flow mappings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thr-'));
    const file = path.join(dir, 'x.yaml');
    fs.writeFileSync(
      file,
      [
        'monitoring:',
        '  thresholds:',
        '    latency: { window: 5m, for: 10m, reason: bursts }',
        '    memory: { ratio: 0.8, for: 10m }',
        'services:',
        '  a:',
        '    monitoring:',
        '      alerts:',
        '        # the budget of one order',
        '        orderLatency: { thresholdSeconds: 0.001, for: 30s }',
        '        latencyMeanSeconds: 0.2 # the mean of a cache lookup',
        '',
      ].join('\n'),
    );
    expect(thresholdsOf(file).map((t) => `${t.line} ${t.path}: ${t.commented}`)).toEqual([
      '3 monitoring.thresholds.latency.window: true',
      '3 monitoring.thresholds.latency.for: true',
      '4 monitoring.thresholds.memory.ratio: false',
      '4 monitoring.thresholds.memory.for: false',
      '10 services.a.monitoring.alerts.orderLatency.thresholdSeconds: true',
      '11 services.a.monitoring.alerts.latencyMeanSeconds: true',
    ]);
  });
});

describe('synth refuses a threshold without a comment', () => {
  it('names the file, line and path, and says how to fix it', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', /\n\s*# p95 above 250ms means clients see a sluggish API[^\n]*\n/, '\n');
    const issues = configIssues(dir);
    const line =
      fs
        .readFileSync(path.join(dir, 'defaults.yaml'), 'utf8')
        .split('\n')
        .findIndex((l) => /latencyP95Seconds: 0\.25/.test(l)) + 1;
    expect(issues).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/defaults\.yaml$/),
        line,
        path: 'services.gateway.monitoring.alerts.latencyP95Seconds',
        message: expect.stringMatching(/without a comment saying why; add one on its line or the line above/),
      }),
    ]);
  });

  it('exits 1 and leaves the output alone', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', /\n\s*# p95 above 250ms means clients see a sluggish API[^\n]*\n/, '\n');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'thr-out-'));
    const before = treeDigest(out);
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /defaults\.yaml:\d+: services\.gateway\.monitoring\.alerts\.latencyP95Seconds: is an alert threshold without a comment/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(treeDigest(out)).toBe(before);
  });
});
