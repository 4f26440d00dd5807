import { ConfigError, formatIssue } from '../../config/errors';
import { loadPlatform } from '../../config/load';
import { TargetConfig } from '../../config/types';
import { guaranteedQosProblems, imagePinProblem } from '../../config/workload-rules';
import { PolicyViolation } from '../../pipeline/policy';
import { synthTargetResult } from '../../pipeline/synth';
import { configOf, copyEnvironments, edit, withMutation } from '../helpers';

/**
 * Each invariant of a service's pods is written once (config/workload-rules.ts,
 * config/availability-rules.ts): the configuration check and the policy check over the synthesized
 * objects give the same verdict, and the policy check's message names the configuration path.
 */

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const pod = (m: any) => m.spec.template.spec;

/** The policy findings of `rule` for a target whose object `kind/name` was changed by `mutate`. */
function policyAfter(
  target: string,
  kind: string,
  name: string,
  mutate: (m: any) => void,
  rule: string,
  mutateConfig?: (c: any) => void,
): PolicyViolation[] {
  return withMutation(kind, name, mutate, target, mutateConfig).filter((v) => v.rule === rule);
}

/** The files of a target, as its messages name them. */
const filesOf = (target: string) => configOf(target).sources.join(', ');

function loadIssues(dir: string): string[] {
  try {
    loadPlatform(dir);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map(formatIssue);
    throw error;
  }
}

describe('image pinning: one rule for services.<name>.image and for every container written', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['ghcr.io/x/ml', 'staging', false],
    ['ghcr.io/x/ml:latest', 'staging', false],
    ['ghcr.io/x/ml:stable', 'staging', false],
    ['ghcr.io/x/ml:Main', 'staging', false],
    ['ghcr.io/x/ml:main-abc', 'staging', true],
    ['ghcr.io/x/ml:main-abc', 'production-us-east-1', false],
    ['ghcr.io/x/ml:1.4', 'production-us-east-1', false],
    ['ghcr.io/x/ml:1.4.2', 'production-us-east-1', true],
    [`ghcr.io/x/ml@${digest}`, 'production-us-east-1', true],
    [`ghcr.io/x/ml:latest@${digest}`, 'production-us-east-1', true],
  ] as const)('%s in %s: pinned = %s, for the configuration and the policy alike', (image, target, pinned) => {
    expect(imagePinProblem(image, configOf(target).tier) === undefined).toBe(pinned);
    const found = policyAfter(
      target,
      'Deployment',
      'ml-service',
      (m) => {
        pod(m).containers[0].image = image;
      },
      'image-pinned',
    );
    expect(found.length === 0).toBe(pinned);
  });

  it("names the configured image in the policy message: the service's own, or the sidecar's", () => {
    expect(
      policyAfter(
        'staging',
        'Deployment',
        'ml-service',
        (m) => {
          pod(m).containers[0].image = 'ghcr.io/x/ml:stable';
        },
        'image-pinned',
      ),
    ).toEqual([
      expect.objectContaining({
        field: 'spec.template.spec.containers[0].image',
        message:
          '"ghcr.io/x/ml:stable" uses the moving tag "stable"; pin a version tag (":1.4.2") or a digest ("@sha256:...")',
        fix: `set services.ml-service.image in ${filesOf('staging')}`,
      }),
    ]);
    expect(
      policyAfter(
        'staging',
        'StatefulSet',
        'redis',
        (m) => {
          pod(m).containers[1].image = 'docker.io/oliver006/redis_exporter';
        },
        'image-pinned',
      ),
    ).toEqual([
      expect.objectContaining({
        field: 'spec.template.spec.containers[1].image',
        fix: `set services.redis.sidecars[0].image in ${filesOf('staging')}`,
      }),
    ]);
  });

  it('says so when the image comes from no configuration', () => {
    const found = policyAfter(
      'staging',
      'StatefulSet',
      'redis',
      (m) => {
        pod(m).containers.push({ ...clone(pod(m).containers[1]), name: 'debug', image: 'busybox:latest' });
      },
      'image-pinned',
    );
    expect(found).toEqual([
      expect.objectContaining({
        field: 'spec.template.spec.containers[2].image',
        fix: 'the image is not configured: pin it in the construct that builds StatefulSet/redis',
      }),
    ]);
  });
});

describe('Guaranteed QoS: one rule for services.<name>.resources and the containers written', () => {
  it('names the configured resources in the policy message', () => {
    const found = policyAfter(
      'production-us-east-1',
      'Rollout',
      'execution-gateway',
      (m) => {
        pod(m).containers[0].resources.requests.cpu = '1';
      },
      'guaranteed-qos',
    );
    expect(found).toEqual([expect.objectContaining({ field: 'spec.template.spec.containers[0].resources' })]);
    expect(found[0].message).toMatch(
      /^Guaranteed QoS needs requests equal to limits \(got requests \{.*"cpu":"1".*\}, limits \{.*\}\)$/,
    );
    expect(found[0].fix).toMatch(
      new RegExp(
        `^set services\\.execution-gateway\\.resources in ${filesOf('production-us-east-1').replace(/[.]/g, '\\.')} \\(services\\.execution-gateway\\.qos is guaranteed\\)`,
      ),
    );
    const fractional = policyAfter(
      'production-us-east-1',
      'Rollout',
      'execution-gateway',
      (m) => {
        pod(m).containers[0].resources.requests.cpu = '1500m';
        pod(m).containers[0].resources.limits.cpu = '1500m';
      },
      'guaranteed-qos',
    );
    expect(fractional).toEqual([
      expect.objectContaining({
        field: 'spec.template.spec.containers[0].resources.limits.cpu',
        message: 'Guaranteed QoS with exclusive cores needs whole CPUs; "1500m" is fractional',
      }),
    ]);
    expect(fractional[0].fix).toContain('set services.execution-gateway.resources.limits.cpu in ');
  });

  it('is the same verdict for configured and written resources', () => {
    const cases: Array<[Record<string, any>, boolean, number]> = [
      [{ requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } }, true, 0],
      [{ requests: { cpu: '2000m', memory: '2048Mi' }, limits: { cpu: '2', memory: '2Gi' } }, true, 0],
      [{ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } }, true, 1],
      [{ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } }, true, 1],
      [{ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } }, false, 0],
      [{ requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } }, false, 1],
      [{ limits: { cpu: '1', memory: '1Gi' } }, false, 1],
    ];
    for (const [resources, own, count] of cases)
      expect([resources, own, guaranteedQosProblems(resources, own).length]).toEqual([resources, own, count]);
  });

  // the old policy asked whole CPUs of every container, the configuration only of the service's own:
  // a Guaranteed service with a sidecar of equal, fractional requests and limits was accepted by the
  // configuration check and refused by the policy with a fix that named no configuration
  it('lets a sidecar of a Guaranteed service have a fractional CPU, in the configuration and the objects', () => {
    const dir = copyEnvironments();
    edit(
      dir,
      'defaults.yaml',
      '    qos: guaranteed\n',
      '    qos: guaranteed\n    sidecars:\n      - name: proxy\n        image: ghcr.io/trading-platform/proxy:1.0.0\n        resources:\n          requests: { cpu: 100m, memory: 32Mi }\n          limits: { cpu: 100m, memory: 32Mi }\n        probes:\n          readiness: { http: { path: /ready, port: 15000 } }\n          liveness: { tcp: { port: 15000 } }\n',
    );
    const config = loadPlatform(dir).find((c: TargetConfig) => c.target === 'production-us-east-1')!;
    const result = synthTargetResult(config);
    expect(result.problems).toEqual([]);
    const rollout = result.output!.manifests.find(
      (m) => m.kind === 'Rollout' && m.metadata.name === 'execution-gateway',
    ) as any;
    expect(pod(rollout).containers.map((c: any) => [c.name, c.resources.limits.cpu])).toEqual([
      ['execution-gateway', '2'],
      ['proxy', '100m'],
    ]);
    // requests below limits in the sidecar: both checks refuse it, each naming the sidecar's path
    edit(
      dir,
      'defaults.yaml',
      'requests: { cpu: 100m, memory: 32Mi }\n          limits: { cpu: 100m, memory: 32Mi }',
      'requests: { cpu: 50m, memory: 32Mi }\n          limits: { cpu: 100m, memory: 32Mi }',
    );
    expect(loadIssues(dir)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /defaults\.yaml:\d+: services\.execution-gateway\.sidecars\[0\]\.resources: sidecar "proxy" of service "execution-gateway": Guaranteed QoS needs requests equal to limits in every container of the pod/,
        ),
      ]),
    );
    const written = policyAfter(
      'production-us-east-1',
      'Rollout',
      'execution-gateway',
      (m) => {
        pod(m).containers.push({
          ...clone(pod(m).containers[0]),
          name: 'proxy',
          resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
        });
      },
      'guaranteed-qos',
      (c) => {
        c.services['execution-gateway'].sidecars = [
          {
            name: 'proxy',
            image: 'ghcr.io/trading-platform/proxy:1.0.0',
            resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
          },
        ];
      },
    );
    expect(written).toEqual([expect.objectContaining({ field: 'spec.template.spec.containers[1].resources' })]);
    expect(written[0].message).toContain('Guaranteed QoS needs requests equal to limits in every container of the pod');
    expect(written[0].fix).toContain('set services.execution-gateway.sidecars[0].resources in ');
  });
});

describe('production availability: the policy names the setting of the environment file', () => {
  const target = 'production-us-east-1';
  const files = () => filesOf(target);

  it('spread, maxUnavailable, the preStop delay, the grace period and the priority', () => {
    expect(
      policyAfter(
        target,
        'Deployment',
        'ml-service',
        (m) => {
          delete pod(m).topologySpreadConstraints;
        },
        'spread',
      ).map((v) => v.fix),
    ).toEqual([
      `set availability.spread to "zones-and-nodes" in ${files()}`,
      `set availability.spread to "zones-and-nodes" in ${files()}`,
    ]);
    expect(
      policyAfter(
        target,
        'Deployment',
        'ml-service',
        (m) => {
          m.spec.strategy.rollingUpdate.maxUnavailable = 1;
        },
        'zero-downtime',
      ).map((v) => v.fix),
    ).toEqual([`set availability.maxUnavailable to 0 (raise availability.maxSurge to roll faster) in ${files()}`]);
    expect(
      policyAfter(
        target,
        'Deployment',
        'orchestrator',
        (m) => {
          delete pod(m).containers[0].lifecycle;
        },
        'graceful-shutdown',
      ).map((v) => v.fix),
    ).toEqual([`set availability.preStopSeconds above 0 (e.g. 15) in ${files()}`]);
    expect(
      policyAfter(
        target,
        'Deployment',
        'orchestrator',
        (m) => {
          pod(m).terminationGracePeriodSeconds = 10;
        },
        'graceful-shutdown',
      ).map((v) => v.fix),
    ).toEqual([`set availability.terminationGracePeriodSeconds above availability.preStopSeconds in ${files()}`]);
    expect(
      policyAfter(
        target,
        'StatefulSet',
        'redis',
        (m) => {
          delete pod(m).priorityClassName;
        },
        'priority-class',
      ).map((v) => v.fix),
    ).toEqual([`set services.redis.priority in ${files()}`]);
  });

  // the configuration refuses preStopSeconds: 0 (config/availability-rules.ts); the old policy only
  // asked that a preStop hook exist, so a hand-written `sleep 0` passed
  it('refuses a preStop hook that does not wait, as the configuration refuses preStopSeconds 0', () => {
    const found = policyAfter(
      target,
      'Deployment',
      'orchestrator',
      (m) => {
        pod(m).containers[0].lifecycle.preStop.exec.command = ['sleep', '0'];
      },
      'graceful-shutdown',
    );
    expect(found).toEqual([expect.objectContaining({ field: 'spec.template.spec.containers[0].lifecycle.preStop' })]);
    expect(
      policyAfter(
        target,
        'Deployment',
        'orchestrator',
        (m) => {
          pod(m).containers[0].lifecycle.preStop.exec.command = ['sleep', '20'];
        },
        'graceful-shutdown',
      ),
    ).toEqual([]);
  });
});
