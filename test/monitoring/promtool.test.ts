import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { Manifest, ofKind } from '../../core/manifest';
import { manifestsOf, ROOT, TARGETS } from '../helpers';

/**
 * Prometheus's own tools on the generated rules: `promtool check rules` on every rule group, and
 * `promtool test rules` unit tests (test/monitoring/promtool/*.yaml) that replay series against
 * the synthesized production rules and assert alerts at the edge of each `for:` window.
 *
 * promtool comes from the Debian package `prometheus`; CI installs it. Without it these tests
 * fail (never skip), saying how to install it.
 */
jest.setTimeout(180_000);

const FIXTURES = path.join(ROOT, 'test', 'monitoring', 'promtool');
const INSTALL =
  'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus';

interface Run {
  status: number | null;
  output: string;
}

function promtool(args: string[], cwd: string): Run {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `promtool could not be run (${result.error.message}). It comes from the Debian package "prometheus": ${INSTALL}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The rule file Prometheus Operator would write for a PrometheusRule: its spec.groups. */
function ruleFile(rule: Manifest): string {
  return stringify({ groups: (rule as unknown as { spec: { groups: unknown[] } }).spec.groups });
}

function writeRuleFiles(dir: string, rules: Manifest[], prefix = ''): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return rules.map((rule) => {
    const file = path.join(dir, `${prefix}${rule.metadata.name}.yaml`);
    fs.writeFileSync(file, ruleFile(rule));
    return file;
  });
}

function findFiles(dir: string, pattern: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? findFiles(full, pattern) : pattern.test(e.name) ? [full] : [];
  });
}

let work: string;

beforeAll(() => {
  // a scratch folder: rules/<service>.yaml from the synthesized production rules, fixtures beside
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  writeRuleFiles(path.join(work, 'rules'), ofKind(manifestsOf('production-us-east-1'), 'PrometheusRule'));
  for (const f of fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.yaml')))
    fs.copyFileSync(path.join(FIXTURES, f), path.join(work, f));
  fs.mkdirSync(path.join(work, 'broken'));
  for (const f of fs.readdirSync(path.join(FIXTURES, 'broken')))
    fs.copyFileSync(path.join(FIXTURES, 'broken', f), path.join(work, 'broken', f));
});

describe('promtool', () => {
  it('is installed (Debian package prometheus)', () => {
    const run = promtool(['--version'], ROOT);
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/promtool, version \d+\.\d+/);
  });
});

describe('promtool check rules', () => {
  it('accepts every rule group of every PrometheusRule in dist/', () => {
    const files = findFiles(path.join(ROOT, 'dist'), /^prometheusrule-.*\.yaml$/);
    expect(files.length).toBeGreaterThan(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-rules-'));
    const ruleFiles = files.map((file) => {
      const manifest = parse(fs.readFileSync(file, 'utf8')) as Manifest;
      const out = path.join(dir, `${path.basename(path.dirname(file))}-${manifest.metadata.name}.yaml`);
      fs.writeFileSync(out, ruleFile(manifest));
      return out;
    });
    const run = promtool(['check', 'rules', ...ruleFiles], dir);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
    expect(run.output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(ruleFiles.length);
  });

  it.each(TARGETS)('accepts every rule group synthesized for %s', (target) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rules-${target}-`));
    const files = writeRuleFiles(dir, ofKind(manifestsOf(target), 'PrometheusRule'));
    expect(files.length).toBeGreaterThan(0);
    const run = promtool(['check', 'rules', ...files], dir);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
  });

  it('refuses a rule with a PromQL syntax error (the check bites)', () => {
    const run = promtool(['check', 'rules', 'broken/broken-rule.yaml'], work);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED/);
    expect(run.output).toMatch(/parse error|unclosed left parenthesis/i);
  });
});

describe('promtool test rules on the production rules', () => {
  const testRules = (fixture: string) => {
    const run = promtool(['test', 'rules', fixture], work);
    if (run.status !== 0) throw new Error(`promtool test rules ${fixture} failed:\n${run.output}`);
    expect(run.output).toContain('SUCCESS');
  };

  it('execution-gateway p99 order latency over 100µs fires after 30s and not before', () =>
    testRules('order-latency.yaml'));

  it('target down fires after 2m and not before', () => testRules('target-down.yaml'));

  it('market data staleness fires on the first scrape that sees data older than 10s', () =>
    testRules('market-data.yaml'));

  it('the 14.4x burn-rate page fires on a fast burn while the 1x ticket does not fire on a short burst; a slow burn opens only the 1x ticket', () =>
    testRules('slo-burn-rate.yaml'));

  it('a service whose metrics vanish entirely (no target at all) fires MetricsAbsent after 2m, TargetDown never', () =>
    testRules('metrics-absent.yaml'));

  it('the error-budget recordings give the objective, the budget, the burn rate and the budget remaining', () =>
    testRules('slo-error-budget.yaml'));

  it('runs every fixture of test/monitoring/promtool (none is left out)', () => {
    expect(
      fs
        .readdirSync(FIXTURES)
        .filter((n) => n.endsWith('.yaml'))
        .sort(),
    ).toEqual([
      'market-data.yaml',
      'metrics-absent.yaml',
      'order-latency.yaml',
      'slo-burn-rate.yaml',
      'slo-error-budget.yaml',
      'target-down.yaml',
    ]);
  });

  it('fails on an expectation one evaluation before the for: window ends (the tests bite)', () => {
    const run = promtool(['test', 'rules', 'broken/order-latency-early.yaml'], work);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED/);
    expect(run.output).toMatch(/alertname: OrderLatencyHigh, time: 2m30s/);
  });
});

/**
 * `promtool test rules` on the examples' distinctive alerts: the fixtures of
 * test/monitoring/promtool/examples/<example>/ run against the rule files Prometheus Operator
 * would write for the committed examples/<example>/dist/production/prometheusrule-*.yaml.
 */
describe("promtool test rules on the examples' production rules", () => {
  const EXAMPLE_FIXTURES = path.join(FIXTURES, 'examples');
  const examples = fs.readdirSync(EXAMPLE_FIXTURES).sort();
  const dirOf = (example: string) => path.join(work, 'examples', example);

  beforeAll(() => {
    for (const example of examples) {
      const dist = path.join(ROOT, 'examples', example, 'dist', 'production');
      const rules = findFiles(dist, /^prometheusrule-.*\.yaml$/).map(
        (f) => parse(fs.readFileSync(f, 'utf8')) as Manifest,
      );
      writeRuleFiles(path.join(dirOf(example), 'rules'), rules);
      for (const f of fs.readdirSync(path.join(EXAMPLE_FIXTURES, example)).filter((n) => n.endsWith('.yaml'))) {
        fs.copyFileSync(path.join(EXAMPLE_FIXTURES, example, f), path.join(dirOf(example), f));
      }
    }
  });

  const testRules = (example: string, fixture: string) => {
    const run = promtool(['test', 'rules', fixture], dirOf(example));
    if (run.status !== 0) throw new Error(`promtool test rules ${example}/${fixture} failed:\n${run.output}`);
    expect(run.output).toContain('SUCCESS');
  };

  it('has fixtures for the examples whose seeds name distinctive alerts, each with its production rules', () => {
    expect(examples).toEqual(['flashmm', 'hive-mind']);
    for (const example of examples)
      expect(fs.readdirSync(path.join(dirOf(example), 'rules')).length).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(EXAMPLE_FIXTURES, 'flashmm')).sort()).toEqual(['sentinel.yaml']);
    expect(fs.readdirSync(path.join(EXAMPLE_FIXTURES, 'hive-mind')).sort()).toEqual([
      'consensus.yaml',
      'order-latency.yaml',
    ]);
  });

  it('Hive Mind: p99 latency over 100µs fires after 30s and not before, and never for a p99 just under 100µs', () =>
    testRules('hive-mind', 'order-latency.yaml'));

  it('Hive Mind: a second consensus failure within 5m fires at once, a single one never; no leader for 30s fires', () =>
    testRules('hive-mind', 'consensus.yaml'));

  it('FlashMM: each of the five Sentinel alerts (quorum lost, no master, two masters, link down, lag) fires at the end of its for: window and not before; a failover overlap and a 9s lag never', () =>
    testRules('flashmm', 'sentinel.yaml'));

  it('fails when the quorum alert is expected one evaluation before the 1m window ends (the tests bite)', () => {
    const text = fs.readFileSync(path.join(dirOf('flashmm'), 'sentinel.yaml'), 'utf8');
    const early = text.replace(
      '      - eval_time: 120s\n        alertname: SentinelQuorumLost\n',
      '      - eval_time: 105s\n        alertname: SentinelQuorumLost\n',
    );
    expect(early).not.toBe(text);
    fs.writeFileSync(path.join(dirOf('flashmm'), 'sentinel-early.yaml'), early);
    const run = promtool(['test', 'rules', 'sentinel-early.yaml'], dirOf('flashmm'));
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/alertname: SentinelQuorumLost, time: 1m45s/);
  });

  it('fails when the latency alert is expected one evaluation before the 30s window ends (the tests bite)', () => {
    const text = fs.readFileSync(path.join(dirOf('hive-mind'), 'order-latency.yaml'), 'utf8');
    const early = text.replace(
      '      - eval_time: 155s\n        alertname: OrderLatencyHigh\n        exp_alerts:\n',
      '      - eval_time: 150s\n        alertname: OrderLatencyHigh\n        exp_alerts:\n',
    );
    expect(early).not.toBe(text);
    fs.writeFileSync(path.join(dirOf('hive-mind'), 'order-latency-early.yaml'), early);
    const run = promtool(['test', 'rules', 'order-latency-early.yaml'], dirOf('hive-mind'));
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/alertname: OrderLatencyHigh, time: 2m30s/);
  });
});

/**
 * The queries KEDA's prometheus triggers run (the ScaledObjects of dist/ and examples/*\/dist/):
 * promtool checks them as recording rules, and evaluates FlashMM's against series of several pods
 * and of another namespace: each gives one value, from this namespace's pods only.
 */
describe('promtool on the KEDA triggers', () => {
  type Trigger = { scaledObject: string; file: string; name: string; query: string };
  const triggers = (): Trigger[] =>
    [
      path.join(ROOT, 'dist'),
      ...fs.readdirSync(path.join(ROOT, 'examples')).map((e) => path.join(ROOT, 'examples', e, 'dist')),
    ]
      .flatMap((dist) => findFiles(dist, /^scaledobject-.*\.yaml$/))
      .flatMap((file) => {
        const so = parse(fs.readFileSync(file, 'utf8')) as { metadata: { name: string }; spec: { triggers: any[] } };
        return so.spec.triggers
          .filter((t) => t.type === 'prometheus')
          .map((t) => ({ scaledObject: so.metadata.name, file, name: t.name, query: t.metadata.query }));
      });

  it('accepts every trigger query as a rule', () => {
    const all = triggers();
    expect(all.length).toBeGreaterThanOrEqual(5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-'));
    const rules = all.map((t, i) => ({ record: `keda_trigger_${i}:${t.name.replace(/-/g, '_')}`, expr: t.query }));
    fs.writeFileSync(path.join(dir, 'triggers.yaml'), stringify({ groups: [{ name: 'keda-triggers', rules }] }));
    const run = promtool(['check', 'rules', 'triggers.yaml'], dir);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.output).toContain(`SUCCESS: ${all.length} rules found`);
  });

  it("evaluates FlashMM's triggers to one value over its own pods, ignoring another namespace's", () => {
    const flashmm = triggers().filter((t) => t.file.includes(path.join('flashmm', 'dist', 'production')));
    const query = (name: string) => flashmm.find((t) => t.name === name)!.query;
    const bucket = (pod: string, le: string, perStep: number) => ({
      series: `trading_order_latency_seconds_bucket{namespace="flashmm",job="flashmm",pod="${pod}",le="${le}"}`,
      values: `0+${perStep}x20`,
    });
    const test = {
      rule_files: [],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          input_series: [
            { series: 'trading_order_queue_depth{namespace="flashmm",job="flashmm",pod="flashmm-a"}', values: '30x20' },
            { series: 'trading_order_queue_depth{namespace="flashmm",job="flashmm",pod="flashmm-b"}', values: '70x20' },
            // the same service in another environment's namespace, on the same Prometheus
            {
              series: 'trading_order_queue_depth{namespace="flashmm-staging",job="flashmm",pod="x"}',
              values: '900x20',
            },
            // per pod, 90% of orders within 10ms, all within 50ms
            bucket('flashmm-a', '0.01', 9),
            bucket('flashmm-a', '0.05', 10),
            bucket('flashmm-a', '+Inf', 10),
            bucket('flashmm-b', '0.01', 9),
            bucket('flashmm-b', '0.05', 10),
            bucket('flashmm-b', '+Inf', 10),
          ],
          promql_expr_test: [
            { expr: query('order-queue-depth'), eval_time: '4m', exp_samples: [{ labels: '{}', value: 100 }] },
            // the 95th percentile lies in the 10-50ms bucket, halfway: 30ms (above the 25ms target)
            { expr: query('order-latency-p95'), eval_time: '4m', exp_samples: [{ labels: '{}', value: 0.03 }] },
          ],
        },
      ],
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-'));
    fs.writeFileSync(path.join(dir, 'flashmm-triggers.yaml'), stringify(test));
    const run = promtool(['test', 'rules', 'flashmm-triggers.yaml'], dir);
    if (run.status !== 0) throw new Error(`promtool test rules failed:\n${run.output}`);
    expect(run.output).toContain('SUCCESS');
  });
});
