import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { loadPlatform } from '../../config/load';
import { escapeTemplate, templateError } from '../../core/go-template';
import { Manifest, find, ofKind } from '../../core/manifest';
import { synthesizeAll } from '../../pipeline/synth';
import { copyEnvironments, edit } from '../helpers';

/**
 * Prometheus reads every alert annotation as a Go template and refuses a rule file whose templates
 * do not parse: a "{{" in a threshold reason (plain text) must be escaped, and a custom alert's
 * summary may use templates and "{{ "{{" }}" for literal braces. promtool proves the rules load
 * and that Prometheus prints the reason as it was written.
 */
jest.setTimeout(120_000);

const REASON = 'pages when {{ the queue }} backs up; see {{ runbook';

function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (result.error)
    throw new Error(
      `promtool could not be run (${result.error.message}); it comes from the Debian package "prometheus"`,
    );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('alert text with "{{"', () => {
  let rules: Manifest[];
  let work: string;

  beforeAll(() => {
    const dir = copyEnvironments();
    // a reason every service's TargetDown alert carries, and a custom alert on gateway
    edit(dir, 'defaults.yaml', /^(    targetDown:\n      for: 2m\n      reason: ).*$/m, `$1"${REASON}"`);
    edit(
      dir,
      'defaults.yaml',
      /^    monitoring:\n      alerts:\n        # p95 above 250ms/m,
      '    monitoring:\n      alerts:\n        custom:\n          - { alert: AlwaysOn, expr: "vector(1)", for: 1m, severity: info, summary: \'{{ "{{" }}literal{{ "}}" }} {{ $value }}\', description: "value {{ $value | humanize }}", reason: "{{ braces in a reason" }\n        # p95 above 250ms',
    );
    const configs = loadPlatform(dir).filter((c) => c.target === 'staging');
    rules = ofKind(synthesizeAll(configs).find((o) => o.folder === 'staging')!.manifests, 'PrometheusRule');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'alert-templates-'));
    for (const rule of rules)
      fs.writeFileSync(path.join(work, `${rule.metadata.name}.yaml`), stringify({ groups: (rule as any).spec.groups }));
  });

  it('writes every PrometheusRule so that promtool loads it', () => {
    const run = promtool(['check', 'rules', ...rules.map((r) => `${r.metadata.name}.yaml`)], work);
    expect(run.output).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
  });

  it('prints the reason and the literal braces as written once Prometheus expands the templates', () => {
    const gateway = find(rules, 'PrometheusRule', 'gateway');
    const always = (gateway as any).spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'AlwaysOn');
    expect(always.annotations.threshold_reason).toBe(escapeTemplate('{{ braces in a reason'));
    fs.writeFileSync(
      path.join(work, 'test.yaml'),
      stringify({
        rule_files: ['gateway.yaml'],
        evaluation_interval: '15s',
        tests: [
          {
            interval: '15s',
            input_series: [],
            alert_rule_test: [
              {
                eval_time: '2m',
                alertname: 'AlwaysOn',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'info', namespace: 'trading-staging', service: 'gateway' },
                    exp_annotations: {
                      summary: '{{literal}} 1',
                      description: 'value 1',
                      runbook_url: always.annotations.runbook_url,
                      threshold_reason: '{{ braces in a reason',
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const run = promtool(['test', 'rules', 'test.yaml'], work);
    if (run.status !== 0) throw new Error(run.output);
    expect(run.output).toContain('SUCCESS');
  });
});

describe('templateError', () => {
  it.each([
    ['down {{ oops', /never closed/],
    ['{{}}', /empty/],
    ['{{ $nope }}', /variable \$nope/],
    ['{{ frobnicate $value }}', /"frobnicate" at character 1 is not a template function/],
    ['{{ if gt $value 1.0 }}high', /never closed by \{\{ end \}\}/],
    ['{{ "unterminated }}', /not terminated|never closed/],
  ])('refuses %j', (text, message) => {
    expect(templateError(text)).toMatch(message);
  });

  it.each([
    'plain text, no template',
    '{{ $value | humanizePercentage }} of requests on {{ $labels.pod }}',
    '{{ "{{" }} literal',
    '{{- if gt $value 1.0 -}}high{{ else }}low{{ end }}',
    '{{ $x := $labels.instance }}{{ $x }}',
    '{{ printf "%.2f" $value }}',
  ])('accepts %j', (text) => {
    expect(templateError(text)).toBeUndefined();
  });
});
