import { TargetConfig } from '../../config/types';
import { synthDelivery, synthTargetResult, SynthError } from '../../pipeline/synth';
import { configOf, referencePlatform } from '../helpers';

/**
 * The scan of the rendered output is the backstop: configurations are changed here in memory,
 * past the loader's checks, and the secret must still be refused before anything is written,
 * with the target, the dist file, the object, the field and a redacted excerpt.
 */
const GITHUB_TOKEN = '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';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PASSWORD = 'Sup3rS3cretPw';

/** A copy of a reference target's configuration, changed by `change`. */
function changed(target: string, change: (config: any) => void): TargetConfig {
  const config = structuredClone(configOf(target)) as any;
  change(config);
  return config as TargetConfig;
}

function problemsOf(config: TargetConfig): string {
  const result = synthTargetResult(config);
  expect(result.output).toBeUndefined();
  const text = result.problems.join('\n');
  for (const secret of [GITHUB_TOKEN, JWT, PASSWORD]) expect(text).not.toContain(secret);
  return text;
}

describe('the rendered output of every target is scanned for secrets before it is written', () => {
  it('refuses an env value, naming the file, the object, the field and the secrets: entry to use', () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.orchestrator.env.UPSTREAM = GITHUB_TOKEN;
      }),
    );
    expect(text).toMatch(
      /^development: deployment-orchestrator\.yaml: Deployment\/orchestrator: spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value: a GitHub token would be written to dist\/ in plain text \("ghp_…"\); fix: move it to the service's secrets: \[\{env: UPSTREAM, remoteKey: \.\.\.\}\]/m,
    );
  });

  it('refuses a password in a container argument', () => {
    const text = problemsOf(
      changed('staging', (c) => {
        c.services.orchestrator.args = [`--db=postgres://app:${PASSWORD}@db/trading`];
      }),
    );
    expect(text).toMatch(
      /staging: deployment-orchestrator\.yaml: Deployment\/orchestrator: spec\.template\.spec\.containers\[0\]\.args\[0\]: a password in a URL \(user:password@\) would be written to dist\/ in plain text \("[^"]*postgres:\/\/app:\*\*\*\*@db\/trading"\).*\$\(NAME\)/,
    );
  });

  it('refuses a credential flag whose value is the next argument', () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.orchestrator.args = ['--db-password', PASSWORD];
      }),
    );
    expect(text).toMatch(
      /development: deployment-orchestrator\.yaml: Deployment\/orchestrator: spec\.template\.spec\.containers\[0\]\.args\[1\]: a credential given as the value of "--db-password" would be written to dist\/ in plain text \("\*\*\*\*"\).*\$\(NAME\)/,
    );
  });

  it('lets a credential flag take a $(VAR) reference as its value', () => {
    const result = synthTargetResult(
      changed('development', (c) => {
        c.services.orchestrator.args = ['--db-password', '$(DB_PASSWORD)'];
      }),
    );
    expect(result.problems.join('\n')).not.toMatch(/--db-password/);
  });

  it("refuses redis's --requirepass and --masterauth with their values, not a $(VAR) reference", () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.redis.args = ['--requirepass', '$(REDIS_PASSWORD)', '--masterauth', PASSWORD];
      }),
    );
    expect(text).toMatch(
      /development: statefulset-redis\.yaml: StatefulSet\/redis: spec\.template\.spec\.containers\[0\]\.args\[3\]: a credential given as the value of "--masterauth" would be written to dist\/ in plain text \("\*\*\*\*"\).*\$\(NAME\)/,
    );
    expect(text).not.toMatch(/--requirepass/);
  });

  it("refuses curl's -u user:password in an exec probe's shell command", () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.redis.probes.readiness = {
          exec: { command: ['sh', '-c', `redis-cli ping && curl -u admin:${PASSWORD} http://localhost:9090/`] },
          periodSeconds: 5,
        };
      }),
    );
    expect(text).toMatch(
      /development: statefulset-redis\.yaml: StatefulSet\/redis: spec\.template\.spec\.containers\[0\]\.readinessProbe\.exec\.command\[2\]: a password given with "-u" \(user:password\) would be written to dist\/ in plain text \("[^"]*curl -u admin:\*\*\*\*[^"]*"\).*\$\(NAME\)/,
    );
  });

  it('refuses an Authorization header in a container argument', () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.orchestrator.args = ['--header', `Authorization: Bearer ${PASSWORD}`];
      }),
    );
    expect(text).toMatch(
      /development: deployment-orchestrator\.yaml: Deployment\/orchestrator: spec\.template\.spec\.containers\[0\]\.args\[1\]: a credential in an HTTP Authorization header .*\$\(NAME\)/,
    );
  });

  it("refuses a requirepass line of a redis.conf in the service's ConfigMap", () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.orchestrator.config = { 'redis.conf': `bind 0.0.0.0\nrequirepass ${PASSWORD}\n` };
      }),
    );
    expect(text).toMatch(
      /development: configmap-orchestrator-config\.yaml: ConfigMap\/orchestrator-config: data\["redis\.conf"\]: a credential given as the value of "requirepass" .*config: entries are written to dist\//,
    );
  });

  it("refuses a bearer token in a webhook provider's header, with the template to write instead", () => {
    const text = problemsOf(
      changed('staging', (c) => {
        c.secretStore.provider = {
          webhook: {
            url: 'https://secrets.example.com/{{ .remoteRef.key }}',
            result: { jsonPath: '$.value' },
            headers: { Authorization: `Bearer ${PASSWORD}` },
          },
        };
      }),
    );
    expect(text).toMatch(
      /staging: clustersecretstore-[a-z-]+\.yaml: ClusterSecretStore\/[a-z-]+: spec\.provider\.webhook\.headers\.Authorization: a bearer token \("Bearer …"\) .*\{\{ \.auth\.token \}\}/,
    );
  });

  it("refuses a config: value in the service's ConfigMap", () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.services.orchestrator.config = { 'upstream.url': `https://x.example.com/?access_token=${PASSWORD}` };
      }),
    );
    expect(text).toMatch(
      /development: configmap-orchestrator-config\.yaml: ConfigMap\/orchestrator-config: data\["upstream\.url"\]: .*config: entries are written to dist\//,
    );
  });

  it('refuses a literal in the ClusterSecretStore provider block', () => {
    const text = problemsOf(
      changed('staging', (c) => {
        c.secretStore.provider.aws.externalID = JWT;
      }),
    );
    expect(text).toMatch(
      /staging: clustersecretstore-aws-secrets-manager\.yaml: ClusterSecretStore\/aws-secrets-manager: spec\.provider\.aws\.externalID: a JSON Web Token .*secretRef fields/,
    );
  });

  it("refuses a secret that only the target's README would show", () => {
    const text = problemsOf(
      changed('development', (c) => {
        c.cluster.name = JWT;
      }),
    );
    expect(text).toMatch(
      /^development: README\.md:\d+: a JSON Web Token would be written to dist\/ in plain text \("[^"]*eyJh…[^"]*"\)/m,
    );
  });

  it('refuses a credential in the repository URL of dist/argocd', () => {
    const { outputs, configs } = referencePlatform();
    const targets = outputs
      .filter((o) => o.folder !== 'argocd')
      .map((o) => ({
        config: changed(o.folder, (c) => {
          c.delivery.repoURL = `https://deploy:${PASSWORD}@github.com/trading-platform/platform-manifests.git`;
        }),
        manifests: o.manifests,
      }));
    expect(targets).toHaveLength(configs.length);
    let error: unknown;
    try {
      synthDelivery(targets);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    const text = (error as SynthError).problems.join('\n');
    expect(text).toMatch(
      /^argocd: (application|appproject)-[a-z0-9-]+\.yaml: (Application|AppProject)\/[a-z0-9-]+: spec\.(source\.repoURL|sourceRepos\[0\]): a password in a URL \(user:password@\) .*"https:\/\/deploy:\*\*\*\*@github\.com.*Argo CD reads repository and cluster credentials from its own Secrets/m,
    );
    expect(text).not.toContain(PASSWORD);
  });
});
