import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyEnvironments, edit, runSynth, treeDigest } from '../helpers';

/**
 * Careless and hostile input (issue 14, "Input handling"): each case must make synth exit 1 with
 * a message naming the file, the path, the value and what is allowed, quickly, without a stack
 * trace or an "internal error", and leave the output folder untouched.
 */
describe('synth refuses hostile input', () => {
  let out: string;
  let before: string;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    const ok = runSynth(['--config', copyEnvironments(), '--out', out, '--quiet']);
    expect(ok.status).toBe(0);
    before = treeDigest(out);
  });

  function refused(dir: string): string {
    const result = runSynth(['--config', dir, '--out', out]);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(treeDigest(out)).toBe(before);
    return result.stderr;
  }

  function refuse(file: string, search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, file, search, replacement);
    return refused(dir);
  }

  describe('files of the configuration folder', () => {
    it('refuses a YAML alias bomb inside a free-form block', () => {
      const bomb = ['      a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
      for (let i = 1; i < 12; i++)
        bomb.push(
          `      a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      const message = refuse(
        'development.yaml',
        /region: us-east-1$/m,
        `region: us-east-1\n      bomb:\n${bomb.join('\n')}`,
      );
      expect(message).toMatch(
        /development\.yaml: \(top level\): expands to more than 8 MiB of data through YAML aliases/,
      );
    });

    it("refuses an alias bomb on the position-keeping parser's path too (a file the fast parser refuses)", () => {
      const bomb = ['      a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
      for (let i = 1; i < 12; i++)
        bomb.push(
          `      a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      // js-yaml's core schema does not know !!binary, so the yaml package reads this file
      const message = refuse(
        'development.yaml',
        /region: us-east-1$/m,
        `region: us-east-1\n      bin: !!binary aGVsbG8=\n      bomb:\n${bomb.join('\n')}`,
      );
      expect(message).toMatch(
        /development\.yaml: \(top level\): cannot be read: Excessive alias count indicates a resource exhaustion attack; reduce the use of YAML aliases/,
      );
    });

    it('refuses a file over the size limit before parsing it', () => {
      const dir = copyEnvironments();
      fs.appendFileSync(path.join(dir, 'staging.yaml'), `\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
      const message = refused(dir);
      expect(message).toMatch(
        /staging\.yaml: \(top level\): is 5(\.\d)? MiB; an environment file may be at most 4 MiB/,
      );
    });

    it('refuses a symbolic link and never prints what it points at', () => {
      const dir = copyEnvironments();
      const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'secret-')), 'environ');
      fs.writeFileSync(secret, 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n');
      fs.symlinkSync(secret, path.join(dir, 'leak.yaml'));
      const message = refused(dir);
      expect(message).toMatch(/leak\.yaml: \(top level\): is a symbolic link, not a regular file/);
      expect(message).not.toContain('wJalrXUtnFEMI');
      expect(message).not.toContain('AWS_SECRET_ACCESS_KEY');
    });

    it('refuses a symbolic link even to a file inside the folder', () => {
      const dir = copyEnvironments();
      fs.symlinkSync('staging.yaml', path.join(dir, 'qa.yaml'));
      expect(refused(dir)).toMatch(/qa\.yaml: \(top level\): is a symbolic link/);
    });

    it('refuses a named pipe without opening it (no hang)', () => {
      const dir = copyEnvironments();
      execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')]);
      expect(refused(dir)).toMatch(/pipe\.yaml: \(top level\): is a named pipe \(FIFO\), not a regular file/);
    });

    it('refuses a directory named *.yaml', () => {
      const dir = copyEnvironments();
      fs.mkdirSync(path.join(dir, 'zz.yaml'));
      expect(refused(dir)).toMatch(/zz\.yaml: \(top level\): is a directory, not a regular file/);
    });

    it('refuses an environment file name too long for a target', () => {
      const dir = copyEnvironments();
      fs.renameSync(path.join(dir, 'staging.yaml'), path.join(dir, `${'s'.repeat(240)}.yaml`));
      expect(refused(dir)).toMatch(
        /: \(top level\): the file name "s{40}"\.\.\. \(240 characters\) must be a DNS-1123 label of at most 63 characters/,
      );
    });
  });

  describe('prototype keys', () => {
    it("refuses constructor and __proto__ as keys of a service's config", () => {
      const message = refuse(
        'defaults.yaml',
        /^    env:\n      LOG_LEVEL: info\n/m,
        '    config:\n      constructor: x\n      __proto__: y\n    env:\n      LOG_LEVEL: info\n',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.gateway\.config\.constructor: "constructor" is a reserved name/,
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.gateway\.config\.__proto__: "__proto__" is a reserved name/,
      );
    });

    it('refuses constructor as a selector label', () => {
      const message = refuse(
        'defaults.yaml',
        'release: kube-prometheus-stack',
        'release: kube-prometheus-stack\n    constructor: x',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: monitoring\.selectorLabels\.constructor: "constructor" is a reserved name/,
      );
    });

    it('refuses constructor as a service name', () => {
      const message = refuse('defaults.yaml', /^  data-service:$/m, '  constructor:');
      expect(message).toMatch(/defaults\.yaml:\d+: services\.constructor: "constructor" is a reserved name/);
    });

    it('refuses a dependency on "constructor" as an undeclared service', () => {
      const message = refuse(
        'defaults.yaml',
        '- { service: orchestrator, port: http }',
        '- { service: constructor, port: http }',
      );
      expect(message).toMatch(
        /services\.gateway\.dependsOn\[2\]\.service: "gateway" depends on "constructor", which is not a declared service/,
      );
    });

    it('refuses priority "constructor" as an undeclared priority class', () => {
      const message = refuse('production.yaml', /priority: high/, 'priority: constructor');
      expect(message).toMatch(
        /production\.yaml:\d+: services\.gateway\.priority: "constructor" is not a declared priority class; declared: critical, high/,
      );
    });
  });

  describe('names and labels the API server would refuse', () => {
    it('refuses a selector label that is not a Kubernetes label', () => {
      const message = refuse(
        'defaults.yaml',
        'release: kube-prometheus-stack',
        'release: kube prometheus\n    "-bad/x": y',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: monitoring\.selectorLabels\.release: "kube prometheus" is not valid; expected a label value/,
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: monitoring\.selectorLabels\.-bad\/x: contains the invalid name "-bad\/x"; names must be a label key/,
      );
    });

    it('refuses a Grafana dashboard label key that is not a label key', () => {
      const message = refuse(
        'defaults.yaml',
        'dashboardLabel: grafana_dashboard',
        'dashboardLabel: "grafana dashboard"',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: monitoring\.grafana\.dashboardLabel: "grafana dashboard" is not valid; expected a label key/,
      );
    });

    it('refuses an environment name that makes the instance label longer than 63 characters', () => {
      const dir = copyEnvironments();
      fs.renameSync(path.join(dir, 'staging.yaml'), path.join(dir, `${'s'.repeat(60)}.yaml`));
      expect(refused(dir)).toMatch(
        /s{60}\.yaml: \(top level\): the instance label "trading-platform-s{60}" \(platform\.name "trading-platform", "-", the environment "s{60}"\) is 77 characters; a label value may have at most 63/,
      );
    });

    it('refuses an image tag that cannot be the version label', () => {
      const message = refuse(
        'defaults.yaml',
        'image: ghcr.io/trading-platform/ml-service:0.9.4',
        'image: ghcr.io/trading-platform/ml-service:0.9.4-',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.ml-service\.image: the tag of "ghcr\.io\/trading-platform\/ml-service:0\.9\.4-" becomes the label app\.kubernetes\.io\/version "0\.9\.4-", which is not a label value/,
      );
    });

    it('refuses a config key longer than a ConfigMap key may be', () => {
      const key = 'k'.repeat(300);
      const message = refuse(
        'defaults.yaml',
        /^    env:\n      LOG_LEVEL: info\n/m,
        `    config:\n      ${key}: x\n    env:\n      LOG_LEVEL: info\n`,
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.gateway\.config\.k{300}: contains the invalid name "k{64}…"; names must be ConfigMap keys: at most 253/,
      );
    });

    it('refuses a service name that is not a DNS-1035 label', () => {
      const message = refuse('defaults.yaml', /^  data-service:$/m, '  1abc:');
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.1abc: contains the invalid name "1abc"; names must be DNS-1035 labels/,
      );
    });

    it('refuses a blue/green service whose preview Service name would be longer than 63 characters', () => {
      const dir = copyEnvironments();
      const long = 'g'.repeat(63);
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
        const full = path.join(dir, file);
        fs.writeFileSync(
          full,
          fs
            .readFileSync(full, 'utf8')
            .replace(/^  gateway:$/m, `  ${long}:`)
            .replace(/service: gateway\b/g, `service: ${long}`),
        );
      }
      expect(refused(dir)).toMatch(
        new RegExp(
          `production\\.yaml:\\d+: services\\.${long}\\.release\\.strategy: the blue/green preview Service "${long}-preview" would be 71 characters; a Service name is a DNS-1035 label.*shorten the service name to at most 55 characters`,
        ),
      );
    });

    it('refuses a description far over the object size limits at config time, quoting only an excerpt', () => {
      const message = refuse(
        'defaults.yaml',
        'description: Public API gateway',
        `description: ${'d'.repeat(2 * 1024 * 1024)}`,
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.gateway\.description: "d{40}"\.\.\. \(2097152 characters\) is too long: 2097152 characters, at most 1024 allowed/,
      );
      expect(message.length).toBeLessThan(2000);
    });
  });

  describe('alert text Prometheus reads as a template', () => {
    it('refuses a custom alert summary that is not a valid template', () => {
      const message = refuse(
        'defaults.yaml',
        /^    monitoring:\n      alerts:\n        # p95 above 250ms/m,
        '    monitoring:\n      alerts:\n        custom:\n          - { alert: Broken, expr: "up == 0", for: 1m, severity: warning, summary: "down {{ oops", description: d, reason: "a reason in words for the test" }\n        # p95 above 250ms',
      );
      expect(message).toMatch(
        /defaults\.yaml:\d+: services\.gateway\.monitoring\.alerts\.custom\[0\]\.summary: custom alert "Broken" of service "gateway": Prometheus reads summary as a Go template and would refuse it: "\{\{" at character 6 is never closed/,
      );
    });
  });
});
