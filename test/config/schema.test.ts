import * as fs from 'fs';
import * as path from 'path';
import { formatIssue } from '../../config/errors';
import { configIssues, copyEnvironments, edit } from '../helpers';

/**
 * Fields the schema (config/schema.ts) refuses, each with a message that names the file, the
 * line, the path, the value and what is allowed.
 */

/** The scratch copy of environments/ after `edits` and the problems (file:line: path: message) it is refused with. */
function refused(edits: Array<[file: string, search: string | RegExp, replacement: string]>): {
  dir: string;
  lines: string[];
} {
  const dir = copyEnvironments();
  for (const [file, search, replacement] of edits) edit(dir, file, search, replacement);
  return { dir, lines: configIssues(dir).map(formatIssue) };
}

/** The 1-based number of the first line of `file` in `dir` that contains `text`. */
function lineOf(dir: string, file: string, text: string): number {
  const index = fs
    .readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} not found in ${file}`);
  return index + 1;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A matcher for one problem: `file:line: path: message...`. */
const problem = (file: string, line: number, at: string, message: string) =>
  expect.stringMatching(new RegExp(`${escape(file)}:${line}: ${escape(at)}: ${escape(message)}`));

describe('environment variable names', () => {
  it('fails on a name with "-", stating the rule for environment variables and the likely name', () => {
    const { dir, lines } = refused([['defaults.yaml', '      LOG_LEVEL: info', '      LOG-LEVEL: info']]);
    expect(lines).toContainEqual(
      problem(
        'defaults.yaml',
        lineOf(dir, 'defaults.yaml', 'LOG-LEVEL: info'),
        'services.gateway.env.LOG-LEVEL',
        'contains the invalid name "LOG-LEVEL"; did you mean "LOG_LEVEL"? names must be environment variable names: letters, digits and "_", not starting with a digit',
      ),
    );
    // the fallback for map keys speaks of DNS-1123 labels, a rule these names do not follow
    expect(lines.join('\n')).not.toContain('DNS-1123');
  });

  it('fails on a name that starts with a digit, suggesting one that does not', () => {
    const { lines } = refused([
      ['defaults.yaml', '      LOG_LEVEL: info', '      2FA_MODE: "off"\n      LOG_LEVEL: info'],
    ]);
    expect(lines).toContainEqual(
      expect.stringContaining(
        'services.gateway.env.2FA_MODE: contains the invalid name "2FA_MODE"; did you mean "_2FA_MODE"? names must be environment variable names',
      ),
    );
  });

  it('fails on a secret exposed under an invalid name, with the rule', () => {
    const { dir, lines } = refused([
      ['defaults.yaml', '{ env: JWT_SIGNING_KEY, remoteKey', '{ env: JWT-SIGNING-KEY, remoteKey'],
    ]);
    expect(lines).toContainEqual(
      problem(
        'defaults.yaml',
        lineOf(dir, 'defaults.yaml', 'JWT-SIGNING-KEY'),
        'services.gateway.secrets[0].env',
        '"JWT-SIGNING-KEY" is not valid; did you mean "JWT_SIGNING_KEY"? expected an environment variable name: letters, digits and "_", not starting with a digit',
      ),
    );
  });
});

describe('keys in the secret manager and Slack channels', () => {
  it('fails on an empty remoteKey of a secret, which would sync the key ""', () => {
    const { dir, lines } = refused([['defaults.yaml', 'remoteKey: trading/jwt-signing-key', 'remoteKey: ""']]);
    expect(lines).toContainEqual(
      problem(
        'defaults.yaml',
        lineOf(dir, 'defaults.yaml', '{ env: JWT_SIGNING_KEY, remoteKey: "" }'),
        'services.gateway.secrets[0].remoteKey',
        'is empty; expected the key in the cloud secret manager, e.g. trading/prod/database-url (not empty, no spaces)',
      ),
    );
  });

  it('fails on a blank remoteKey of the Redis credential', () => {
    const { lines } = refused([['defaults.yaml', 'remoteKey: trading/redis-password', 'remoteKey: " "']]);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /defaults\.yaml:\d+: services\.redis\.auth\.remoteKey: " " is not valid; expected the key in the cloud secret manager/,
      ),
    );
  });

  it("fails on an empty Slack receiver's remoteKey and channel", () => {
    const { dir, lines } = refused([
      ['staging.yaml', 'remoteKey: trading/staging/slack-webhook', 'remoteKey: ""'],
      ['staging.yaml', 'channel: "#trading-staging-alerts"', "channel: ''"],
    ]);
    expect(lines).toContainEqual(
      problem(
        'staging.yaml',
        lineOf(dir, 'staging.yaml', 'remoteKey: ""'),
        'monitoring.alerting.slack.remoteKey',
        'is empty; expected the key of the Slack webhook URL in the cloud secret manager (not empty, no spaces)',
      ),
    );
    expect(lines).toContainEqual(
      problem(
        'staging.yaml',
        lineOf(dir, 'staging.yaml', "channel: ''"),
        'monitoring.alerting.slack.channel',
        'is empty; expected the Slack channel, e.g. "#trading-alerts" (not empty, no spaces)',
      ),
    );
  });

  it("fails on an empty PagerDuty receiver's remoteKey", () => {
    const { lines } = refused([['production.yaml', 'remoteKey: trading/prod/pagerduty-routing-key', 'remoteKey: ""']]);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /production\.yaml:\d+: monitoring\.alerting\.pagerduty\.remoteKey: is empty; expected the key of the PagerDuty routing key/,
      ),
    );
  });
});

describe('backup retention', () => {
  it('fails on a ttl in days, which is no Go duration, and gives it in hours', () => {
    const { dir, lines } = refused([
      [
        'staging.yaml',
        '{ name: daily, schedule: "0 2 * * *", ttl: 168h }',
        '{ name: daily, schedule: "0 2 * * *", ttl: 7d }',
      ],
    ]);
    expect(lines).toContainEqual(
      problem(
        'staging.yaml',
        lineOf(dir, 'staging.yaml', 'ttl: 7d'),
        'backups[0].ttl',
        '"7d" is not a Go duration; write "168h" (a Go duration: numbers with the units h, m, s, ms, us or ns (no d, w or y)',
      ),
    );
  });

  it('converts weeks, years, mixed units and spelled-out days to hours', () => {
    const ttl = (value: string) =>
      refused([['production.yaml', 'ttl: 2160h }', `ttl: ${value} }`]]).lines.find((l) => l.includes('backups[1].ttl'));
    expect(ttl('13w')).toContain('"13w" is not a Go duration; write "2184h"');
    expect(ttl('1y')).toContain('"1y" is not a Go duration; write "8760h"');
    expect(ttl('1d12h30m')).toContain('"1d12h30m" is not a Go duration; write "36h30m"');
    expect(ttl('"90 days"')).toContain('"90 days" is not a Go duration; write "2160h"');
    expect(ttl('forever')).toMatch(/"forever" is not valid; expected a Go duration/);
  });
});
