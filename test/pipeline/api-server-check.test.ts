import { TargetConfig } from '../../config/types';
import { checkApiServerRules } from '../../pipeline/api-server-check';
import { isLabelKey, isLabelValue } from '../../core/k8s-names';
import { find, Manifest } from '../../core/manifest';
import { formatViolation, synthTargetResult } from '../../pipeline/synth';
import { configOf, manifestsOf, TARGETS } from '../helpers';

/** A deep copy of one object of the reference platform, changed by `change`. */
function changed(kind: string, name: string, change: (m: any) => void, target = 'staging'): Manifest {
  const m = structuredClone(find(manifestsOf(target), kind, name)) as any;
  change(m);
  return m;
}

function problems(m: Manifest): string[] {
  return checkApiServerRules('staging', [m]).map(formatViolation);
}

describe('checkApiServerRules', () => {
  it.each(TARGETS)('finds nothing in the reference platform (%s)', (target) => {
    expect(checkApiServerRules(target, manifestsOf(target))).toEqual([]);
  });

  it('refuses a label value over 63 characters and names target, kind/name, field, value and rule', () => {
    const value = `trading-platform-${'s'.repeat(60)}`;
    const found = problems(
      changed('Deployment', 'gateway', (m) => {
        m.metadata.labels['app.kubernetes.io/instance'] = value;
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^staging: Deployment\/gateway: metadata\.labels\["app\.kubernetes\.io\/instance"\]: the value "trading-platform-s{23}"\.\.\. \(77 characters\) is not a label value: .*; fix: /,
      ),
    ]);
  });

  it('refuses label keys and values in pod templates and selectors', () => {
    const found = problems(
      changed('Deployment', 'gateway', (m) => {
        m.spec.template.metadata.labels['bad key'] = 'x';
        m.spec.selector.matchLabels.ok = '-bad-';
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(/spec\.selector\.matchLabels\["ok"\]: the value "-bad-" is not a label value/),
      expect.stringMatching(/spec\.template\.metadata\.labels\["bad key"\]: the key "bad key" is not a label key/),
    ]);
  });

  it('refuses a Service name that is not a DNS-1035 label, and a derived name over 63 characters', () => {
    expect(
      problems(
        changed('Service', 'gateway', (m) => {
          m.metadata.name = '1abc';
        }),
      ),
    ).toEqual([expect.stringMatching(/^staging: Service\/1abc: metadata\.name: "1abc" is not a DNS-1035 label/)]);
    const preview = `${'g'.repeat(63)}-preview`;
    expect(
      problems(
        changed('Service', 'gateway', (m) => {
          m.metadata.name = preview;
        }),
      ),
    ).toEqual([expect.stringMatching(/metadata\.name: "g{40}"\.\.\. \(71 characters\) is not a DNS-1035 label/)]);
  });

  it('refuses a Namespace name that is not a DNS-1123 label and other names that are not DNS-1123 subdomains', () => {
    expect(
      problems(
        changed('Namespace', 'trading-staging', (m) => {
          m.metadata.name = 'a.b';
        }),
      ),
    ).toEqual([expect.stringMatching(/is not a DNS-1123 label/)]);
    expect(
      problems(
        changed('ConfigMap', 'gateway-dashboard', (m) => {
          m.metadata.name = 'Gateway_Dashboard';
        }),
      ),
    ).toEqual([expect.stringMatching(/is not a DNS-1123 subdomain/)]);
  });

  it('refuses a ConfigMap whose data is over 1 MiB', () => {
    const found = problems(
      changed('ConfigMap', 'gateway-dashboard', (m) => {
        m.data.extra = 'x'.repeat(1024 * 1024);
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /ConfigMap\/gateway-dashboard: data\["extra"\]: the ConfigMap's data is 1\.\d+ MiB \(this key 1 MiB\), over the API server's limit of 1 MiB/,
      ),
    ]);
  });

  it('refuses a ConfigMap key the API server would not accept', () => {
    const found = problems(
      changed('ConfigMap', 'gateway-dashboard', (m) => {
        m.data['k'.repeat(254)] = 'v';
        m.data['a b'] = 'v';
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /ConfigMap\/gateway-dashboard: data\["k{40}"\.\.\. \(254 characters\)\]: the key "k{40}"\.\.\. \(254 characters\) is not a valid ConfigMap key/,
      ),
      expect.stringMatching(/data\["a b"\]: the key "a b" is not a valid ConfigMap key/),
    ]);
  });

  it('refuses annotations over 256 KiB together', () => {
    const found = problems(
      changed('Deployment', 'gateway', (m) => {
        m.metadata.annotations = { ...m.metadata.annotations, note: 'n'.repeat(300 * 1024) };
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /Deployment\/gateway: metadata\.annotations: total 300 KiB, over the API server's limit of 256 KiB/,
      ),
    ]);
  });

  it("refuses any object over etcd's 1.5 MiB request limit", () => {
    const found = problems(
      changed('PrometheusRule', 'gateway', (m) => {
        m.spec.groups.push(
          ...Array.from({ length: 2000 }, (_, i) => ({
            name: `g${i}`,
            rules: [{ record: 'x', expr: 'y'.repeat(1000) }],
          })),
        );
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /PrometheusRule\/gateway: \(whole object\): is \d+\.\d+ MiB as JSON, over etcd's request limit of 1\.5 MiB/,
      ),
    ]);
  });
});

describe('synth runs the check on every target', () => {
  it('refuses a description that makes the dashboard ConfigMap larger than 1 MiB, even when the configuration was not checked', () => {
    const config = structuredClone(configOf('staging')) as TargetConfig & { services: Record<string, any> };
    config.services.gateway.description = 'd'.repeat(1100 * 1024);
    const result = synthTargetResult(config);
    expect(result.output).toBeUndefined();
    expect(result.problems).toContainEqual(
      expect.stringMatching(/^staging: ConfigMap\/gateway-dashboard: data\[.*\]: the ConfigMap's data is 1\.\d+ MiB/),
    );
  });
});

describe('label syntax', () => {
  it.each([
    ['app.kubernetes.io/name', true],
    ['release', true],
    ['grafana_dashboard', true],
    ['a/b', true],
    ['grafana dashboard', false],
    ['-bad', false],
    ['UPPER.example.com/x', false],
    [`${'a'.repeat(64)}`, false],
    [`${'a'.repeat(254)}/x`, false],
    ['', false],
    ['a/', false],
  ])('key %j valid: %s', (key, valid) => expect(isLabelKey(key)).toBe(valid));

  it.each([
    ['', true],
    ['1', true],
    ['kube-prometheus-stack', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['kube prometheus', false],
    ['-x', false],
  ])('value %j valid: %s', (value, valid) => expect(isLabelValue(value)).toBe(valid));
});
