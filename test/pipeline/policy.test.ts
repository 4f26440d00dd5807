import { Manifest, find } from '../../core/manifest';
import { checkPolicies, PolicyViolation } from '../../pipeline/policy';
import { checkRestricted, podTemplateOf } from '../../pipeline/pod-security';
import { configOf, manifestsOf, TARGETS, withMutation } from '../helpers';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** The reference objects of a target without the ones `drop` picks. */
function without(drop: (m: Manifest) => boolean, target = 'production-us-east-1'): PolicyViolation[] {
  return checkPolicies(
    configOf(target),
    manifestsOf(target).filter((m) => !drop(m)),
  );
}

const rules = (violations: PolicyViolation[]) => [...new Set(violations.map((v) => v.rule))];
const container = (m: any) => m.spec.template.spec.containers[0];

describe('policy over the reference platform', () => {
  it.each(TARGETS)('finds nothing in %s', (target) => {
    expect(checkPolicies(configOf(target), manifestsOf(target))).toEqual([]);
  });
});

describe('Pod Security "restricted" over every pod template', () => {
  it.each(TARGETS)('finds nothing in %s', (target) => {
    const templates = manifestsOf(target)
      .map((m) => [m, podTemplateOf(m)] as const)
      .filter(([, t]) => t);
    expect(templates.length).toBeGreaterThanOrEqual(7);
    for (const [m, t] of templates)
      expect([m.kind, m.metadata.name, checkRestricted(t!.spec, t!.annotations)]).toEqual([
        m.kind,
        m.metadata.name,
        [],
      ]);
  });
});

describe('each rule fires on a bad object', () => {
  it('refuses a container running as root', () => {
    const v = withMutation('Deployment', 'data-service', (m) => {
      container(m).securityContext.runAsUser = 0;
    });
    expect(v).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'pod-security-restricted',
          target: 'production-us-east-1',
          kind: 'Deployment',
          name: 'data-service',
          field: 'spec.template.spec.containers[0].securityContext.runAsUser',
        }),
      ]),
    );
  });

  it.each([
    [
      'capabilities not dropped',
      (m: any) => {
        delete container(m).securityContext.capabilities;
      },
      'capabilities.drop',
    ],
    [
      'privilege escalation allowed',
      (m: any) => {
        container(m).securityContext.allowPrivilegeEscalation = true;
      },
      'allowPrivilegeEscalation',
    ],
    [
      'no seccomp profile',
      (m: any) => {
        delete container(m).securityContext.seccompProfile;
        delete m.spec.template.spec.securityContext.seccompProfile;
      },
      'seccompProfile',
    ],
    [
      'runAsNonRoot missing',
      (m: any) => {
        delete container(m).securityContext.runAsNonRoot;
        delete m.spec.template.spec.securityContext.runAsNonRoot;
      },
      'runAsNonRoot',
    ],
    [
      'a hostPath volume',
      (m: any) => {
        m.spec.template.spec.volumes.push({ name: 'h', hostPath: { path: '/' } });
      },
      'hostPath',
    ],
    [
      'hostNetwork',
      (m: any) => {
        m.spec.template.spec.hostNetwork = true;
      },
      'hostNetwork',
    ],
    [
      'a privileged container',
      (m: any) => {
        container(m).securityContext.privileged = true;
      },
      'privileged',
    ],
    [
      'an added capability',
      (m: any) => {
        container(m).securityContext.capabilities.add = ['NET_ADMIN'];
      },
      'capabilities.add',
    ],
  ])('refuses %s', (_, mutate, field) => {
    const v = withMutation('Deployment', 'signal-service', mutate);
    expect(v.some((x) => x.rule === 'pod-security-restricted' && x.field.includes(field))).toBe(true);
  });

  it('refuses a container without resources, and cdk8s-plus defaults', () => {
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          delete container(m).resources.limits;
        }),
      ),
    ).toContain('resources');
    const v = withMutation('Deployment', 'ml-service', (m) => {
      container(m).resources = {
        requests: { cpu: '1000m', memory: '512Mi' },
        limits: { cpu: '1500m', memory: '2048Mi' },
      };
    });
    expect(v.filter((x) => x.rule === 'resources').map((x) => x.message)).toContainEqual(
      expect.stringContaining('cdk8s-plus'),
    );
    // ephemeral storage is required like cpu and memory
    expect(v).toContainEqual(
      expect.objectContaining({
        rule: 'resources',
        field: 'spec.template.spec.containers[0].resources.limits.ephemeral-storage',
        message: 'is not set',
      }),
    );
  });

  it('refuses a missing readiness or liveness probe from staging on, not in development', () => {
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          delete container(m).readinessProbe;
        }),
      ),
    ).toContain('probes');
    expect(
      rules(
        withMutation(
          'Deployment',
          'ml-service',
          (m) => {
            delete container(m).livenessProbe;
          },
          'staging',
        ),
      ),
    ).toContain('probes');
    // development requires none, but a probe the service configures must be rendered
    const noLiveness = (c: any) => {
      delete c.services['ml-service'].probes.liveness;
    };
    expect(
      withMutation(
        'Deployment',
        'ml-service',
        (m) => {
          delete container(m).livenessProbe;
        },
        'development',
        noLiveness,
      ),
    ).toEqual([]);
    expect(
      withMutation(
        'Deployment',
        'ml-service',
        (m) => {
          delete container(m).livenessProbe;
        },
        'development',
      ),
    ).toEqual([
      expect.objectContaining({
        rule: 'probes',
        field: 'spec.template.spec.containers[0].livenessProbe',
        message: 'is missing although the service configures probes.liveness',
      }),
    ]);
  });

  it('refuses a configured startup probe that is missing, in every tier', () => {
    for (const target of ['development', 'production-us-east-1']) {
      expect(
        withMutation(
          'Deployment',
          'ml-service',
          (m) => {
            delete container(m).startupProbe;
          },
          target,
        ),
      ).toEqual([
        expect.objectContaining({
          rule: 'probes',
          target,
          kind: 'Deployment',
          name: 'ml-service',
          field: 'spec.template.spec.containers[0].startupProbe',
        }),
      ]);
    }
  });

  it('refuses a Secret carrying data', () => {
    const manifests: Manifest[] = [
      ...manifestsOf('staging'),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'trading-staging', labels: {} },
        stringData: { password: 'x' },
      },
    ];
    expect(checkPolicies(configOf('staging'), manifests)).toEqual([
      expect.objectContaining({ rule: 'no-secret-data', kind: 'Secret', name: 'db', field: 'stringData' }),
    ]);
  });

  it('refuses a literal credential in env', () => {
    const v = withMutation('Deployment', 'ml-service', (m) => {
      container(m).env.push({ name: 'EXCHANGE_API_KEY', value: 'abc' });
    });
    expect(v).toEqual([
      expect.objectContaining({
        rule: 'no-literal-credentials',
        field: 'spec.template.spec.containers[0].env.EXCHANGE_API_KEY',
      }),
    ]);
  });

  it('refuses production images that are neither a digest nor an immutable version', () => {
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          container(m).image = 'ghcr.io/x/ml:main-abc';
        }),
      ),
    ).toEqual(['image-pinned']);
    expect(
      withMutation('Deployment', 'ml-service', (m) => {
        container(m).image = `ghcr.io/x/ml@sha256:${'a'.repeat(64)}`;
      }),
    ).toEqual([]);
    expect(
      withMutation(
        'Deployment',
        'ml-service',
        (m) => {
          container(m).image = 'ghcr.io/x/ml:main-abc';
        },
        'staging',
      ),
    ).toEqual([]);
    expect(
      rules(
        withMutation(
          'Deployment',
          'ml-service',
          (m) => {
            container(m).image = 'ghcr.io/x/ml:latest';
          },
          'staging',
        ),
      ),
    ).toEqual(['image-pinned']);
  });

  it('refuses a namespace without restricted Pod Security labels', () => {
    const v = withMutation('Namespace', 'trading-prod', (m) => {
      m.metadata.labels['pod-security.kubernetes.io/warn'] = 'baseline';
    });
    expect(v).toEqual([
      expect.objectContaining({
        rule: 'namespace-pod-security',
        field: 'metadata.labels.pod-security.kubernetes.io/warn',
      }),
    ]);
  });

  it('refuses a cluster-scoped object with a namespace and a namespaced one elsewhere', () => {
    expect(
      rules(
        withMutation('PriorityClass', 'trading-high', (m) => {
          m.metadata.namespace = 'trading-prod';
        }),
      ),
    ).toEqual(['namespace-scope']);
    expect(
      rules(
        withMutation('Service', 'redis', (m) => {
          m.metadata.namespace = 'default';
        }),
      ),
    ).toEqual(['namespace-scope']);
  });

  it('refuses an Ingress host without TLS', () => {
    expect(
      rules(
        withMutation('Ingress', 'gateway', (m) => {
          m.spec.tls = [];
        }),
      ),
    ).toEqual(['ingress-tls']);
  });

  it('refuses production pods without spread or with maxUnavailable above 0', () => {
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          delete m.spec.template.spec.topologySpreadConstraints;
        }),
      ),
    ).toEqual(['spread']);
    expect(
      rules(
        withMutation('Deployment', 'ml-service', (m) => {
          m.spec.strategy.rollingUpdate.maxUnavailable = 1;
        }),
      ),
    ).toEqual(['zero-downtime']);
  });

  it('refuses a namespace without its ResourceQuota or LimitRange', () => {
    expect(without((m) => m.kind === 'ResourceQuota', 'staging')).toEqual([
      expect.objectContaining({ rule: 'namespace-guards', kind: 'ResourceQuota', name: '(missing)' }),
    ]);
    expect(without((m) => m.kind === 'LimitRange', 'staging')).toEqual([
      expect.objectContaining({
        rule: 'namespace-guards',
        kind: 'LimitRange',
        name: '(missing)',
        fix: 'keep TargetNamespace in the chart',
      }),
    ]);
  });

  it('refuses a namespace whose Pod Security version is not pinned', () => {
    const v = withMutation('Namespace', 'trading-prod', (m) => {
      m.metadata.labels['pod-security.kubernetes.io/enforce-version'] = 'latest';
    });
    expect(v).toEqual([
      expect.objectContaining({
        rule: 'namespace-pod-security',
        kind: 'Namespace',
        name: 'trading-prod',
        field: 'metadata.labels.pod-security.kubernetes.io/enforce-version',
        fix: 'set it to "v1.28"',
      }),
    ]);
  });

  it('reports target, kind, name, field and fix', () => {
    const v = withMutation('Deployment', 'ml-service', (m) => {
      container(m).securityContext.readOnlyRootFilesystem = false;
    });
    expect(v).toEqual([
      {
        rule: 'read-only-root',
        target: 'production-us-east-1',
        kind: 'Deployment',
        name: 'ml-service',
        field: 'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
        message: 'is false; the root filesystem must be read-only',
        fix: "set it in constructs/pod-template.ts; every field of the pod's security context is set explicitly there",
      },
    ]);
    expect(find(manifestsOf('production-us-east-1'), 'Deployment', 'ml-service')).toBeDefined();
  });
});

describe("the platform's own rules fire on a bad object", () => {
  const one = (v: PolicyViolation[]) => v.map((x) => [x.rule, x.kind, x.name, x.field]);
  const pod = (m: any) => m.spec.template.spec;

  it('read-only-root: a container with a writable root filesystem, in any tier', () => {
    expect(
      one(
        withMutation(
          'Deployment',
          'signal-service',
          (m) => {
            delete container(m).securityContext.readOnlyRootFilesystem;
          },
          'development',
        ),
      ),
    ).toEqual([
      [
        'read-only-root',
        'Deployment',
        'signal-service',
        'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
      ],
    ]);
  });

  it('writable-tmp: no /tmp mount, a read-only one, or one that is not an emptyDir', () => {
    const field = 'spec.template.spec.containers[0].volumeMounts';
    expect(
      one(
        withMutation('Deployment', 'ml-service', (m) => {
          container(m).volumeMounts = container(m).volumeMounts.filter((v: any) => v.mountPath !== '/tmp');
        }),
      ),
    ).toEqual([['writable-tmp', 'Deployment', 'ml-service', field]]);
    expect(
      one(
        withMutation('Deployment', 'ml-service', (m) => {
          container(m).volumeMounts.find((v: any) => v.mountPath === '/tmp').readOnly = true;
        }),
      ),
    ).toEqual([['writable-tmp', 'Deployment', 'ml-service', field]]);
    expect(
      one(
        withMutation('Deployment', 'ml-service', (m) => {
          pod(m).volumes.find((v: any) => v.name === 'tmp').emptyDir = undefined;
          pod(m).volumes.find((v: any) => v.name === 'tmp').configMap = { name: 'x' };
        }),
      ),
    ).toEqual([['writable-tmp', 'Deployment', 'ml-service', field]]);
  });

  it('non-root-ids: a zero or missing UID, GID or fsGroup, on the pod or the container', () => {
    expect(
      one(
        withMutation('StatefulSet', 'redis', (m) => {
          container(m).securityContext.runAsGroup = 0;
        }),
      ),
    ).toEqual([
      ['non-root-ids', 'StatefulSet', 'redis', 'spec.template.spec.containers[0].securityContext.runAsGroup'],
    ]);
    expect(
      one(
        withMutation('StatefulSet', 'redis', (m) => {
          delete pod(m).securityContext.fsGroup;
        }),
      ),
    ).toEqual([['non-root-ids', 'StatefulSet', 'redis', 'spec.template.spec.securityContext.fsGroup']]);
    expect(
      one(
        withMutation('StatefulSet', 'redis', (m) => {
          delete container(m).securityContext.runAsUser;
          delete pod(m).securityContext.runAsUser;
        }),
      ),
    ).toEqual([['non-root-ids', 'StatefulSet', 'redis', 'spec.template.spec.containers[0].securityContext.runAsUser']]);
    // the container inherits the pod's IDs
    expect(
      withMutation('StatefulSet', 'redis', (m) => {
        delete container(m).securityContext.runAsUser;
        delete container(m).securityContext.runAsGroup;
      }),
    ).toEqual([]);
  });

  it('guaranteed-qos: derived from the configuration, not from a service name', () => {
    expect(
      one(
        withMutation('Rollout', 'execution-gateway', (m) => {
          container(m).resources.requests.cpu = '1';
        }),
      ),
    ).toEqual([['guaranteed-qos', 'Rollout', 'execution-gateway', 'spec.template.spec.containers[0].resources']]);
    expect(
      one(
        withMutation('Rollout', 'execution-gateway', (m) => {
          container(m).resources.requests.cpu = '1500m';
          container(m).resources.limits.cpu = '1500m';
        }),
      ),
    ).toEqual([
      ['guaranteed-qos', 'Rollout', 'execution-gateway', 'spec.template.spec.containers[0].resources.limits.cpu'],
    ]);
    // orchestrator is Burstable (requests below limits) until its configuration asks for Guaranteed
    // (not ml-service: on spot, a Guaranteed service is latency-critical and its toleration refused too)
    expect(withMutation('Deployment', 'orchestrator', () => undefined)).toEqual([]);
    expect(
      one(
        withMutation(
          'Deployment',
          'orchestrator',
          () => undefined,
          'production-us-east-1',
          (c) => {
            c.services['orchestrator'].qos = 'guaranteed';
          },
        ),
      ),
    ).toEqual([['guaranteed-qos', 'Deployment', 'orchestrator', 'spec.template.spec.containers[0].resources']]);
    // development scales requests, but never those of a Guaranteed service
    expect(
      one(
        withMutation(
          'Deployment',
          'execution-gateway',
          (m) => {
            container(m).resources.requests.cpu = '500m';
          },
          'development',
        ),
      ),
    ).toEqual([['guaranteed-qos', 'Deployment', 'execution-gateway', 'spec.template.spec.containers[0].resources']]);
  });

  it('spread: production pods over zone and hostname, with the configured whenUnsatisfiable', () => {
    const at = 'spec.template.spec.topologySpreadConstraints';
    expect(
      one(
        withMutation('Deployment', 'data-service', (m) => {
          pod(m).topologySpreadConstraints.pop();
        }),
      ),
    ).toEqual([['spread', 'Deployment', 'data-service', at]]);
    expect(
      one(
        withMutation('Rollout', 'execution-gateway', (m) => {
          pod(m).topologySpreadConstraints[1].whenUnsatisfiable = 'ScheduleAnyway';
        }),
      ),
    ).toEqual([['spread', 'Rollout', 'execution-gateway', `${at}[1].whenUnsatisfiable`]]);
    expect(
      one(
        withMutation('Deployment', 'data-service', (m) => {
          pod(m).topologySpreadConstraints[0].whenUnsatisfiable = 'DoNotSchedule';
        }),
      ),
    ).toEqual([['spread', 'Deployment', 'data-service', `${at}[0].whenUnsatisfiable`]]);
    expect(
      one(
        withMutation('Deployment', 'data-service', (m) => {
          pod(m).topologySpreadConstraints[0].labelSelector.matchLabels['app.kubernetes.io/name'] = 'gateway';
        }),
      ),
    ).toEqual([['spread', 'Deployment', 'data-service', `${at}[0].labelSelector`]]);
  });

  it('zero-downtime: maxUnavailable 0 and rolling updates, checked even when spread is none', () => {
    const noSpread = (c: any) => {
      c.availability.spread = 'none';
    };
    const v = withMutation(
      'Deployment',
      'ml-service',
      (m) => {
        delete pod(m).topologySpreadConstraints;
        m.spec.strategy.rollingUpdate.maxUnavailable = '25%';
      },
      'production-us-east-1',
      noSpread,
    );
    expect(v).toContainEqual(
      expect.objectContaining({
        rule: 'zero-downtime',
        kind: 'Deployment',
        name: 'ml-service',
        field: 'spec.strategy.rollingUpdate.maxUnavailable',
        message: 'is "25%"',
      }),
    );
    expect(
      one(
        withMutation('Deployment', 'ml-service', (m) => {
          m.spec.strategy = { type: 'Recreate' };
        }),
      ),
    ).toEqual([['zero-downtime', 'Deployment', 'ml-service', 'spec.strategy.type']]);
    expect(
      withMutation(
        'Deployment',
        'ml-service',
        (m) => {
          m.spec.strategy.rollingUpdate.maxUnavailable = 1;
        },
        'staging',
      ),
    ).toEqual([]);
  });

  it('graceful-shutdown: a preStop hook and a grace period longer than it, in production', () => {
    expect(
      one(
        withMutation('Deployment', 'orchestrator', (m) => {
          delete container(m).lifecycle;
        }),
      ),
    ).toEqual([
      ['graceful-shutdown', 'Deployment', 'orchestrator', 'spec.template.spec.containers[0].lifecycle.preStop'],
    ]);
    expect(
      one(
        withMutation('Deployment', 'orchestrator', (m) => {
          pod(m).terminationGracePeriodSeconds = 10;
        }),
      ),
    ).toEqual([
      ['graceful-shutdown', 'Deployment', 'orchestrator', 'spec.template.spec.terminationGracePeriodSeconds'],
    ]);
    expect(
      withMutation(
        'Deployment',
        'orchestrator',
        (m) => {
          delete container(m).lifecycle;
        },
        'staging',
      ),
    ).toEqual([]);
  });

  it('priority-class: set in production, to a PriorityClass of the target', () => {
    const field = 'spec.template.spec.priorityClassName';
    expect(
      one(
        withMutation('StatefulSet', 'redis', (m) => {
          delete pod(m).priorityClassName;
        }),
      ),
    ).toEqual([['priority-class', 'StatefulSet', 'redis', field]]);
    expect(
      one(
        withMutation('StatefulSet', 'redis', (m) => {
          pod(m).priorityClassName = 'system-cluster-critical-ish';
        }),
      ),
    ).toEqual([['priority-class', 'StatefulSet', 'redis', field]]);
    expect(
      without((m) => m.kind === 'PriorityClass' && m.metadata.name === 'trading-critical').map((x) => [x.rule, x.name]),
    ).toEqual([['priority-class', 'execution-gateway']]);
  });

  it('ingress: a cert-manager issuer, forced HTTPS, a rate limit, no snippets', () => {
    const drop = (key: string) => (m: any) => {
      delete m.metadata.annotations[key];
    };
    expect(one(withMutation('Ingress', 'gateway', drop('cert-manager.io/cluster-issuer')))).toEqual([
      ['ingress-cert-manager', 'Ingress', 'gateway', 'metadata.annotations.cert-manager.io/cluster-issuer'],
    ]);
    expect(one(withMutation('Ingress', 'gateway', drop('nginx.ingress.kubernetes.io/force-ssl-redirect')))).toEqual([
      ['ingress-https', 'Ingress', 'gateway', 'metadata.annotations.nginx.ingress.kubernetes.io/force-ssl-redirect'],
    ]);
    expect(
      one(
        withMutation('Ingress', 'gateway', (m) => {
          drop('nginx.ingress.kubernetes.io/limit-rps')(m);
          drop('nginx.ingress.kubernetes.io/limit-connections')(m);
        }),
      ),
    ).toEqual([
      ['ingress-rate-limit', 'Ingress', 'gateway', 'metadata.annotations.nginx.ingress.kubernetes.io/limit-rps'],
    ]);
    expect(
      one(
        withMutation('Ingress', 'gateway', (m) => {
          m.metadata.annotations['nginx.ingress.kubernetes.io/configuration-snippet'] =
            'more_set_headers "Strict-Transport-Security: max-age=1";';
        }),
      ),
    ).toEqual([
      [
        'ingress-no-snippets',
        'Ingress',
        'gateway',
        'metadata.annotations.nginx.ingress.kubernetes.io/configuration-snippet',
      ],
    ]);
    expect(
      one(
        withMutation('Ingress', 'gateway', (m) => {
          delete m.spec.tls[0].secretName;
        }),
      ),
    ).toEqual([['ingress-tls', 'Ingress', 'gateway', 'spec.tls[0].secretName']]);
  });

  it("stateful-storage: volume claims on the environment's storage class", () => {
    expect(
      one(
        withMutation(
          'StatefulSet',
          'redis',
          (m) => {
            m.spec.volumeClaimTemplates[0].spec.storageClassName = 'gp2';
          },
          'staging',
        ),
      ),
    ).toEqual([['stateful-storage', 'StatefulSet', 'redis', 'spec.volumeClaimTemplates[0].spec.storageClassName']]);
    expect(
      one(
        withMutation(
          'StatefulSet',
          'redis',
          (m) => {
            delete m.spec.volumeClaimTemplates;
          },
          'staging',
        ),
      ),
    ).toEqual([['stateful-storage', 'StatefulSet', 'redis', 'spec.volumeClaimTemplates']]);
  });

  it('disruption-budget: every workload has a PodDisruptionBudget selecting its pods', () => {
    expect(
      one(without((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === 'ml-service', 'development')),
    ).toEqual([['disruption-budget', 'Deployment', 'ml-service', 'spec.template.metadata.labels']]);
    expect(
      one(
        withMutation('PodDisruptionBudget', 'gateway', (m) => {
          m.spec.selector.matchLabels['app.kubernetes.io/name'] = 'gateway-v2';
        }),
      ),
    ).toEqual([['disruption-budget', 'Rollout', 'gateway', 'spec.template.metadata.labels']]);
  });

  it("external-secret-store: every ExternalSecret uses the target's ClusterSecretStore, which exists", () => {
    expect(
      one(
        withMutation('ExternalSecret', 'gateway-secrets', (m) => {
          m.spec.secretStoreRef.name = 'vault';
        }),
      ),
    ).toEqual([['external-secret-store', 'ExternalSecret', 'gateway-secrets', 'spec.secretStoreRef']]);
    expect(
      one(
        withMutation('ExternalSecret', 'gateway-secrets', (m) => {
          m.spec.secretStoreRef.kind = 'SecretStore';
        }),
      ),
    ).toEqual([['external-secret-store', 'ExternalSecret', 'gateway-secrets', 'spec.secretStoreRef']]);
    const missing = without((m) => m.kind === 'ClusterSecretStore');
    expect(missing.length).toBe(manifestsOf('production-us-east-1').filter((m) => m.kind === 'ExternalSecret').length);
    expect(new Set(missing.map((x) => `${x.rule} ${x.kind} ${x.field}`))).toEqual(
      new Set(['external-secret-store ExternalSecret spec.secretStoreRef.name']),
    );
  });

  it('no-literal-credentials: broader names in env and in ConfigMap keys', () => {
    for (const [name, value] of [
      ['JWT_SIGNING_KEY', 'abc'],
      ['DB_PASS', 'x'],
      ['POSTGRES_URL', 'postgres://u:p@db/x'],
    ]) {
      expect(
        one(
          withMutation('Deployment', 'ml-service', (m) => {
            container(m).env.push({ name, value });
          }),
        ),
      ).toEqual([
        ['no-literal-credentials', 'Deployment', 'ml-service', `spec.template.spec.containers[0].env.${name}`],
      ]);
    }
    expect(
      withMutation('Deployment', 'ml-service', (m) => {
        container(m).env.push({ name: 'REDIS_URL', value: 'redis://redis:6379/0' });
      }),
    ).toEqual([]);
    expect(
      one(
        withMutation('ConfigMap', 'feature-flags', (m) => {
          m.data.HMAC_KEY = 'abc';
        }),
      ),
    ).toEqual([['no-literal-credentials', 'ConfigMap', 'feature-flags', 'data.HMAC_KEY']]);
  });
});

/**
 * The backstop over synthesized objects, whoever built them: Roles and ClusterRoles that take
 * over the cluster without a wildcard, and NetworkPolicies whose blocks open (nearly) the whole
 * internet only when added up over every policy of a workload.
 */
describe('policy bypasses are caught on the synthesized objects', () => {
  const one = (v: PolicyViolation[]) => v.map((x) => [x.rule, x.kind, x.name, x.field]);
  const grant = (rule: any) => (m: any) => {
    m.rules.push(rule);
  };

  it.each([
    ['nodes/proxy', { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }],
    ['pods/exec', { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }],
    ['pods/ephemeralcontainers', { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch'] }],
    ['serviceaccounts/token', { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }],
    [
      'clusterrolebindings create',
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings'], verbs: ['create'] },
    ],
    ['namespaces patch', { apiGroups: [''], resources: ['namespaces'], verbs: ['patch'] }],
    [
      'webhook configurations delete',
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['validatingwebhookconfigurations'],
        verbs: ['delete'],
      },
    ],
    ['escalate', { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['escalate'] }],
    ['bind', { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind'] }],
    ['impersonate', { apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }],
    ['pods create', { apiGroups: [''], resources: ['pods'], verbs: ['create'] }],
    ['CSR approve', { apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'] }],
  ])('rbac-escalation: a Role granting %s', (_, rule) => {
    const v = withMutation('Role', 'orchestrator', grant(rule), 'staging');
    expect(one(v)).toEqual([['rbac-escalation', 'Role', 'orchestrator', 'rules[3].resources[0]']]);
    expect(v[0].message).toMatch(/^grants .* \(.*\), which /);
    expect(v[0].fix).toMatch(/declare exactly it in services\.orchestrator\.api with scope namespace and a "reason"/);
  });

  it('rbac-escalation: a grant the configuration declares with a reason passes, outside production only', () => {
    const declare = (c: any) => {
      c.services.orchestrator.api.push({
        apiGroup: '',
        resources: ['pods/exec'],
        verbs: ['create'],
        reason: 'runs the nightly reconciliation inside the redis pod',
      });
    };
    const exec = grant({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] });
    expect(withMutation('Role', 'orchestrator', exec, 'staging', declare)).toEqual([]);
    // a blank reason, another scope or another verb justifies nothing
    const blank = (c: any) => {
      c.services.orchestrator.api.push({ apiGroup: '', resources: ['pods/exec'], verbs: ['create'], reason: '  ' });
    };
    expect(one(withMutation('Role', 'orchestrator', exec, 'staging', blank))).toEqual([
      ['rbac-escalation', 'Role', 'orchestrator', 'rules[3].resources[0]'],
    ]);
    const clusterScoped = (c: any) => {
      declare(c);
      c.services.orchestrator.api.at(-1).scope = 'cluster';
    };
    expect(one(withMutation('Role', 'orchestrator', exec, 'staging', clusterScoped))).toEqual([
      ['rbac-escalation', 'Role', 'orchestrator', 'rules[3].resources[0]'],
    ]);
    expect(
      one(
        withMutation(
          'Role',
          'orchestrator',
          grant({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] }),
          'staging',
          declare,
        ),
      ),
    ).toEqual([['rbac-escalation', 'Role', 'orchestrator', 'rules[3].resources[0]']]);
    const v = withMutation('Role', 'orchestrator', exec, 'production-us-east-1', declare);
    expect(one(v)).toEqual([['rbac-escalation', 'Role', 'orchestrator', 'rules[3].resources[0]']]);
    expect(v[0].message).toContain('refused in production, even with a reason');
  });

  it('rbac-escalation: a ClusterRole a construct builds on its own', () => {
    const manifests: Manifest[] = [
      ...manifestsOf('staging'),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'helper', labels: {} },
        rules: [{ apiGroups: [''], resources: ['serviceaccounts', 'users'], verbs: ['impersonate'] }],
      } as Manifest,
    ];
    expect(one(checkPolicies(configOf('staging'), manifests))).toEqual([
      ['rbac-escalation', 'ClusterRole', 'helper', 'rules[0].resources[0]'],
      ['rbac-escalation', 'ClusterRole', 'helper', 'rules[0].resources[1]'],
    ]);
  });

  it('rbac-least-privilege: a binding to a role that is not part of the target (cluster-admin)', () => {
    expect(
      one(
        withMutation(
          'RoleBinding',
          'orchestrator',
          (m) => {
            m.roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' };
          },
          'staging',
        ),
      ),
    ).toEqual([['rbac-least-privilege', 'RoleBinding', 'orchestrator', 'roleRef']]);
  });

  const egressOf = (name: string, cidrs: string[][], target = 'staging') =>
    manifestsOf(target).map((m) =>
      m.kind === 'NetworkPolicy' && m.metadata.name === name
        ? ({
            ...m,
            spec: {
              ...(m as any).spec,
              egress: [
                ...((m as any).spec.egress ?? []),
                ...cidrs.map((to) => ({
                  to: to.map((cidr) => ({ ipBlock: { cidr } })),
                  ports: [{ port: 443, protocol: 'TCP' }],
                })),
              ],
            },
          } as Manifest)
        : m,
    );
  const network = (manifests: Manifest[], target = 'staging') =>
    checkPolicies(configOf(target), manifests).filter((v) => v.rule.startsWith('network-'));

  it('network-least-privilege: 256 rules of one /8 each in one policy add up to the whole internet', () => {
    const v = network(
      egressOf(
        'gateway',
        Array.from({ length: 256 }, (_, i) => [`${i}.0.0.0/8`]),
      ),
    );
    expect(v.map((x) => [x.kind, x.name, x.field])).toEqual([['NetworkPolicy', 'gateway', 'spec.egress']]);
    expect(v[0].message).toMatch(
      /^0\.0\.0\.0\/8, 1\.0\.0\.0\/8, .* together cover the whole IPv4 internet: what the pods of service "gateway" may reach, and no external peer this service depends on declares them with a reason$/,
    );
  });

  it('network-least-privilege: two rules of one /8 each, in one policy or in two that select the same pods', () => {
    const v = network(egressOf('gateway', [['3.0.0.0/8'], ['4.0.0.0/8']]));
    expect(v.map((x) => [x.name, x.field])).toEqual([['gateway', 'spec.egress']]);
    expect(v[0].message).toContain('3.0.0.0/8, 4.0.0.0/8 together cover more public addresses than one /8');
    // a second policy that selects gateway's pods adds its blocks to gateway's
    const extra = {
      ...clone(find(manifestsOf('staging'), 'NetworkPolicy', 'gateway')),
      metadata: { name: 'gateway-extra', namespace: 'trading-staging', labels: {} },
    } as any;
    extra.spec = {
      podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['gateway'] }] },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '4.0.0.0/8' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
    };
    const split = network([...egressOf('gateway', [['3.0.0.0/8']]), extra]);
    expect(split.map((x) => [x.name, x.field])).toEqual([['gateway', 'spec.egress']]);
    expect(split[0].message).toContain('over the NetworkPolicies gateway, gateway-extra, which all select these pods');
    // two /9s and a /24: refused for one service, allowed when split over two
    expect(network(egressOf('gateway', [['3.0.0.0/9'], ['4.0.0.0/9'], ['5.0.0.0/24']])).map((x) => x.name)).toEqual([
      'gateway',
    ]);
    expect(
      network([
        ...egressOf('gateway', [['3.0.0.0/9']]).filter(
          (m) => !(m.kind === 'NetworkPolicy' && m.metadata.name === 'data-service'),
        ),
        ...egressOf('data-service', [['4.0.0.0/9'], ['5.0.0.0/24']]).filter(
          (m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'data-service',
        ),
      ]),
    ).toEqual([]);
  });

  it('network-least-privilege: an IPv6 block that embeds all of IPv4', () => {
    for (const cidr of ['::ffff:0:0/96', '64:ff9b::/96']) {
      const v = network(egressOf('gateway', [[cidr]]));
      expect(v.map((x) => [x.name, x.field])).toEqual([
        [
          'gateway',
          `spec.egress[${(find(manifestsOf('staging'), 'NetworkPolicy', 'gateway') as any).spec.egress.length}].to[0].ipBlock.cidr`,
        ],
      ]);
      expect(v[0].message).toContain(`${cidr} embeds 0.0.0.0/0`);
    }
  });

  it('network-least-privilege: a blank reason on the peer excuses nothing', () => {
    const target = 'production-us-east-1';
    const open = egressOf('execution-gateway', [['0.0.0.0/0']], target);
    const justify = (reason: string) => (c: any) => {
      c.externals.exchanges.cidrs = ['0.0.0.0/0'];
      c.externals.exchanges.reason = reason;
    };
    const check = (reason: string) => {
      const config = clone(configOf(target));
      justify(reason)(config);
      return checkPolicies(config, open).filter((v) => v.rule.startsWith('network-'));
    };
    expect(check('venues rotate their order-entry addresses without notice')).toEqual([]);
    expect(check(' ').map((x) => [x.name, x.message])).toEqual([
      [
        'execution-gateway',
        expect.stringMatching(
          /^0\.0\.0\.0\/0 opens the whole internet and no external peer this service depends on declares it with a reason/,
        ),
      ],
    ]);
  });
});
