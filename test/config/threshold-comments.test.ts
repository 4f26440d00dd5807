import * as fs from 'fs';
import * as path from 'path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { ENVIRONMENTS, ROOT } from '../helpers';

/**
 * STYLE.md, "Alerts": every threshold carries a comment with its reason. The alerts'
 * `threshold_reason` annotations point at these comments, so each threshold of environments/
 * (and of every example) must have a comment on its line or on the line(s) right above it; a
 * block of monitoring.thresholds may instead carry its reason as a `reason` key, which is
 * written to the annotation itself.
 */
const THRESHOLD_KEYS = new Set(['latencyP95Seconds', 'latencyMeanSeconds', 'thresholdSeconds', 'orderRejectionRatio', 'marketDataStaleSeconds', 'drawdownRatio', 'availability']);

interface Threshold { readonly file: string; readonly line: number; readonly path: string; readonly commented: boolean }

export function thresholdsOf(file: string): Threshold[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const out: Threshold[] = [];
  const commentAt = (line: number) => {
    // a comment at the end of the line, or a comment line right above (blank lines break it)
    if (/\s#\s/.test(lines[line - 1] ?? '')) return true;
    return /^\s*#/.test(lines[line - 2] ?? '');
  };
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      const key = String(pair.key.value);
      const keys = ancestors.filter(isPair).map((p) => String((p.key as { value?: unknown })?.value));
      const inStandard = keys.includes('thresholds') && keys[keys.indexOf('thresholds') - 1] === 'monitoring';
      const isThreshold = (THRESHOLD_KEYS.has(key) && (keys.includes('alerts') || keys.includes('slo'))) || (inStandard && key !== 'reason');
      if (!isThreshold) return;
      const line = counter.linePos(pair.key.range![0]).line;
      let commented = commentAt(line);
      // a threshold inside a block (orderLatency, a monitoring.thresholds entry): the block's comment counts
      const parent = ancestors[ancestors.length - 1];
      const block = ancestors[ancestors.length - 2];
      if (!commented && isMap(parent) && isPair(block) && isScalar(block.key)) {
        commented = commentAt(counter.linePos(block.key.range![0]).line)
          || (inStandard && parent.items.some((p) => isScalar(p.key) && p.key.value === 'reason' && isScalar(p.value) && String(p.value.value).trim() !== ''));
      }
      out.push({ file: path.relative(ROOT, file), line, path: [...keys, key].join('.'), commented });
    },
  });
  return out;
}

const folders = [ENVIRONMENTS, ...fs.readdirSync(path.join(ROOT, 'examples')).map((e) => path.join(ROOT, 'examples', e, 'environments')).filter((d) => fs.existsSync(d))];
const files = folders.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => path.join(d, f)));

describe('every threshold in environments/ says why', () => {
  it('finds the thresholds it checks (latency, staleness, SLOs and the standard block)', () => {
    const found = thresholdsOf(path.join(ENVIRONMENTS, 'defaults.yaml')).map((t) => t.path);
    expect(found).toEqual(expect.arrayContaining([
      'services.data-service.monitoring.alerts.latencyP95Seconds',
      'services.data-service.monitoring.alerts.marketDataStaleSeconds',
      'services.signal-service.monitoring.alerts.latencyP95Seconds',
      'services.orchestrator.monitoring.alerts.latencyP95Seconds',
      'services.gateway.monitoring.slo.availability',
      'services.execution-gateway.monitoring.alerts.orderLatency.thresholdSeconds',
      'monitoring.thresholds.memory.ratio',
      'monitoring.thresholds.httpErrors.critical',
    ]));
    expect(thresholdsOf(path.join(ENVIRONMENTS, 'production.yaml')).map((t) => t.path)).toContain('services.execution-gateway.monitoring.slo.availability');
  });

  it('reports a threshold without a comment', () => {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'thr-'));
    const file = path.join(dir, 'x.yaml');
    fs.writeFileSync(file, 'services:\n  a:\n    monitoring:\n      alerts:\n        # why\n        latencyP95Seconds: 0.1\n        drawdownRatio: 0.05\n');
    expect(thresholdsOf(file).map((t) => `${t.path}: ${t.commented}`)).toEqual([
      'services.a.monitoring.alerts.latencyP95Seconds: true',
      'services.a.monitoring.alerts.drawdownRatio: false',
    ]);
  });

  it.each(files.map((f) => [path.relative(ROOT, f), f]))('%s: every threshold has a comment on its line or the line above', (_, file) => {
    const missing = thresholdsOf(file).filter((t) => !t.commented).map((t) => `${t.file}:${t.line}: ${t.path} has no comment saying why (add one on its line or the line above)`);
    expect(missing).toEqual([]);
  });
});
