import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { cpuMillis, memoryBytes } from '../../core/quantity';
import { find, Manifest, ofKind } from '../../core/manifest';
import { podTemplateOf } from '../../pipeline/pod-security';
import { configOf, copyEnvironments, edit, manifestsOf, referencePlatform, runSynth, TARGETS } from '../helpers';

const pod = (m: Manifest): any => podTemplateOf(m)!.spec;
const workloads = (target: string) =>
  manifestsOf(target).filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind));
const workload = (target: string, name: string) => workloads(target).find((w) => w.metadata.name === name)!;

describe.each(TARGETS)('workloads of %s', (target) => {
  it('set every restricted-profile field explicitly, on the pod and the container', () => {
    for (const w of workloads(target)) {
      const spec = pod(w);
      expect(spec.securityContext).toEqual(
        expect.objectContaining({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }),
      );
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.runAsGroup).toBeGreaterThan(0);
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual(
          expect.objectContaining({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          }),
        );
        // a writable /tmp from an emptyDir, the container's own for a sidecar
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      }
      expect(spec.volumes).toContainEqual(expect.objectContaining({ name: 'tmp', emptyDir: expect.any(Object) }));
    }
  });

  it('take resources from the configuration, never from library defaults', () => {
    const config = configOf(target);
    for (const w of workloads(target)) {
      const service = config.services[w.metadata.name];
      const { resources } = pod(w).containers[0];
      expect(resources.limits).toMatchObject(service.resources.limits);
      const scale = service.qos === 'guaranteed' ? 1 : config.requestScale;
      expect(cpuMillis(resources.requests.cpu)).toBe(Math.round(cpuMillis(service.resources.requests.cpu) * scale));
      expect(memoryBytes(resources.requests.memory)).toBe(
        Math.round(memoryBytes(service.resources.requests.memory) * scale),
      );
      expect([resources.requests.cpu, resources.limits.cpu]).not.toEqual(['1000m', '1500m']);
      expect([resources.requests.memory, resources.limits.memory]).not.toEqual(['512Mi', '2048Mi']);
    }
  });

  it('have readiness, liveness and startup probes as configured', () => {
    for (const w of workloads(target)) {
      const [c] = pod(w).containers;
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
      expect(c.startupProbe).toBeDefined();
    }
  });

  it('mount a service-account token only where the service has a Role', () => {
    const config = configOf(target);
    for (const w of workloads(target)) {
      const usesApi = (config.services[w.metadata.name].api ?? []).length > 0;
      expect([w.metadata.name, pod(w).automountServiceAccountToken]).toEqual([w.metadata.name, usesApi]);
      expect(find(manifestsOf(target), 'ServiceAccount', w.metadata.name).automountServiceAccountToken).toBe(usesApi);
    }
  });

  it('keep secrets as ExternalSecrets only, with no Secret objects', () => {
    expect(ofKind(manifestsOf(target), 'Secret')).toEqual([]);
    const es = find(manifestsOf(target), 'ExternalSecret', 'execution-gateway-secrets') as any;
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: configOf(target).secretStore.name });
    // its own secrets, then the password of redis, which it depends on
    expect(es.spec.data.map((d: any) => d.remoteRef.key)).toEqual([
      'trading/exchange-api-key',
      'trading/exchange-api-secret',
      'trading/database-url',
      'trading/redis-password',
    ]);
    const env = pod(workload(target, 'execution-gateway')).containers[0].env;
    expect(env).toContainEqual({
      name: 'EXCHANGE_API_KEY',
      valueFrom: { secretKeyRef: { name: 'execution-gateway-secrets', key: 'EXCHANGE_API_KEY' } },
    });
  });

  it('guard the namespace with restricted Pod Security, a quota and a limit range', () => {
    const config = configOf(target);
    const ns = find(manifestsOf(target), 'Namespace', config.namespace);
    for (const mode of ['enforce', 'audit', 'warn']) {
      expect(ns.metadata.labels![`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
      expect(ns.metadata.labels![`pod-security.kubernetes.io/${mode}-version`]).toBe('v1.28');
    }
    expect((find(manifestsOf(target), 'ResourceQuota', 'compute') as any).spec.hard['limits.cpu']).toBe(
      config.quota.limits.cpu,
    );
    expect((find(manifestsOf(target), 'LimitRange', 'container-defaults') as any).spec.limits[0].type).toBe(
      'Container',
    );
  });

  it('run redis as a StatefulSet with an encrypted volume claim and a headless Service', () => {
    const redis = find(manifestsOf(target), 'StatefulSet', 'redis') as any;
    expect(redis.spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: configOf(target).storageClass,
      resources: { requests: { storage: '10Gi' } },
    });
    expect(configOf(target).storageClass).toMatch(/encrypted/);
    expect(redis.spec.serviceName).toBe('redis');
    expect((find(manifestsOf(target), 'Service', 'redis') as any).spec.clusterIP).toBe('None');
    find(manifestsOf(target), 'PodDisruptionBudget', 'redis');
  });

  it('reach postgres through an ExternalName Service', () => {
    const svc = find(manifestsOf(target), 'Service', 'postgres') as any;
    expect(svc.spec.type).toBe('ExternalName');
    expect(svc.spec.externalName).toBe(configOf(target).externals.postgres.externalName);
  });

  it('expose the gateway through nginx with cert-manager TLS, HSTS and rate limiting', () => {
    const ingress = find(manifestsOf(target), 'Ingress', 'gateway') as any;
    const host = configOf(target).ingress.host;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: [host], secretName: 'gateway-tls' }]);
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBe(configOf(target).ingress.clusterIssuer);
    // HSTS comes from the controller's ConfigMap; a snippet annotation would be refused by a stock ingress-nginx
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true');
    expect(Object.keys(ingress.metadata.annotations).filter((a) => a.endsWith('-snippet'))).toEqual([]);
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/limit-rps']).toBe('100');
    const readme = referencePlatform()
      .outputs.find((o) => o.folder === target)!
      .files.get('README.md')!;
    expect(readme).toContain('data:\n  hsts: "true"\n  hsts-max-age: "31536000"\n  hsts-include-subdomains: "true"\n');
    expect(ofKind(manifestsOf(target), 'Ingress')).toHaveLength(1);
  });

  it('publish the feature flags as a validated ConfigMap mounted where it is read', () => {
    const cm = find(manifestsOf(target), 'ConfigMap', 'feature-flags') as any;
    const doc = parse(cm.data['flags.yaml']);
    expect(doc.flags.map((f: any) => f.name)).toEqual(['ml-signal-v2', 'risk-limits-v2', 'smart-order-routing']);
    for (const flag of doc.flags) expect(flag.rolloutPercent).toBeGreaterThanOrEqual(0);
    const orchestrator = pod(workload(target, 'orchestrator'));
    expect(orchestrator.volumes).toContainEqual({ name: 'feature-flags', configMap: { name: 'feature-flags' } });
  });
});

describe('production availability', () => {
  const target = 'production-us-east-1';

  it('spreads over zones and nodes, strictly where the configuration asks (execution-gateway)', () => {
    const config = configOf(target);
    expect(
      Object.values(config.services)
        .filter((s) => s.spreadPolicy === 'DoNotSchedule')
        .map((s) => s.name),
    ).toEqual(['execution-gateway']);
    for (const w of workloads(target)) {
      const constraints = pod(w).topologySpreadConstraints;
      expect(constraints.map((c: any) => c.topologyKey)).toEqual([
        'topology.kubernetes.io/zone',
        'kubernetes.io/hostname',
      ]);
      const expected = config.services[w.metadata.name].spreadPolicy ?? 'ScheduleAnyway';
      for (const c of constraints) expect([w.metadata.name, c.whenUnsatisfiable]).toEqual([w.metadata.name, expected]);
    }
  });

  it('rolls with maxUnavailable 0 and shuts down gracefully', () => {
    for (const w of ofKind(manifestsOf(target), 'Deployment')) {
      expect((w.spec as any).strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    }
    for (const w of workloads(target)) {
      expect(pod(w).terminationGracePeriodSeconds).toBe(60);
      expect(pod(w).containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '15']);
    }
  });

  it('runs execution-gateway with Guaranteed QoS on whole CPUs', () => {
    const { resources } = pod(workload(target, 'execution-gateway')).containers[0];
    // QoS is decided by CPU and memory; ephemeral storage has its own request and limit
    expect({ cpu: resources.requests.cpu, memory: resources.requests.memory }).toEqual({
      cpu: resources.limits.cpu,
      memory: resources.limits.memory,
    });
    expect(cpuMillis(resources.limits.cpu) % 1000).toBe(0);
  });

  it('gives execution-gateway trading-critical and the rest trading-high', () => {
    expect(
      ofKind(manifestsOf(target), 'PriorityClass')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['trading-critical', 'trading-high']);
    for (const w of workloads(target)) {
      expect([w.metadata.name, pod(w).priorityClassName]).toEqual([
        w.metadata.name,
        w.metadata.name === 'execution-gateway' ? 'trading-critical' : 'trading-high',
      ]);
    }
  });

  it('pins every image to an immutable version', () => {
    for (const w of workloads(target))
      expect(pod(w).containers[0].image).toMatch(/:v?\d+\.\d+\.\d+$|@sha256:[a-f0-9]{64}$/);
  });
});

describe('staging availability', () => {
  it('spreads every service over zones, best-effort (ScheduleAnyway), as PLATFORM.md says', () => {
    for (const w of workloads('staging')) {
      const constraints = pod(w).topologySpreadConstraints;
      expect([w.metadata.name, constraints.map((c: any) => [c.topologyKey, c.whenUnsatisfiable])]).toEqual([
        w.metadata.name,
        [['topology.kubernetes.io/zone', 'ScheduleAnyway']],
      ]);
    }
  });

  it('keeps a spreadPolicy set for every tier strict in production only', () => {
    const dir = copyEnvironments();
    edit(dir, 'defaults.yaml', '    qos: guaranteed\n', '    qos: guaranteed\n    spreadPolicy: DoNotSchedule\n');
    const out = dir + '-out';
    expect(
      runSynth(['--config', dir, '--out', out, '--quiet', '--target', 'staging', '--target', 'production-us-east-1'])
        .status,
    ).toBe(0);
    const read = (t: string, f: string) => parse(fs.readFileSync(path.join(out, t, f), 'utf8'));
    expect(
      read('staging', 'deployment-execution-gateway.yaml').spec.template.spec.topologySpreadConstraints[0]
        .whenUnsatisfiable,
    ).toBe('ScheduleAnyway');
    expect(
      read('production-us-east-1', 'rollout-execution-gateway.yaml').spec.template.spec.topologySpreadConstraints[0]
        .whenUnsatisfiable,
    ).toBe('DoNotSchedule');
  });
});

describe('development', () => {
  it('runs one replica of everything with no spread and a quarter of the requests', () => {
    for (const w of workloads('development')) {
      expect((w.spec as any).replicas).toBe(1);
      expect(pod(w).topologySpreadConstraints).toBeUndefined();
    }
    expect(pod(workload('development', 'ml-service')).containers[0].resources.requests).toMatchObject({
      cpu: '125m',
      memory: '512Mi',
    });
    expect(ofKind(manifestsOf('development'), 'PriorityClass')).toEqual([]);
  });
});

describe('refusals', () => {
  function refuse(file: string, search: string | RegExp, replacement: string): string {
    const dir = copyEnvironments();
    edit(dir, file, search, replacement);
    const result = runSynth(['--config', dir, '--out', dir + '-out']);
    expect(result.status).toBe(1);
    return result.stderr;
  }

  it('refuses a staging service without a liveness probe', () => {
    const message = refuse(
      'defaults.yaml',
      '      liveness: { http: { path: /healthz, port: http }, periodSeconds: 15, timeoutSeconds: 3 }\n',
      '',
    );
    expect(message).toMatch(
      /services\.ml-service\.probes: service "ml-service" has no liveness probe; staging requires readiness and liveness probes/,
    );
    expect(message).toContain('production-us-east-1');
    expect(message).not.toMatch(/in targets? development/);
  });

  it('refuses Guaranteed QoS with requests below limits', () => {
    const message = refuse(
      'defaults.yaml',
      'requests: { cpu: "2", memory: 2Gi }',
      'requests: { cpu: "1", memory: 2Gi }',
    );
    expect(message).toContain('services.execution-gateway.resources: Guaranteed QoS needs requests equal to limits');
  });

  it('refuses a production image that is not an immutable version', () => {
    const message = refuse('defaults.yaml', 'ml-service:0.9.4', 'ml-service:main-7f3a2c');
    expect(message).toMatch(/services\.ml-service\.image: .* is not immutable; production images need a digest/);
  });

  it('refuses a feature flag rollout above 100 percent', () => {
    const message = refuse('defaults.yaml', 'rolloutPercent: 25', 'rolloutPercent: 125');
    expect(message).toMatch(/featureFlags\.risk-limits-v2\.rolloutPercent: 125 is out of range: must be <= 100/);
  });

  it('refuses a feature flag declared twice', () => {
    const message = refuse('defaults.yaml', /^  ml-signal-v2:$/m, '  smart-order-routing:');
    expect(message).toMatch(/Map keys must be unique/);
  });

  it('refuses an undeclared priority class', () => {
    const message = refuse('production.yaml', 'priority: critical', 'priority: urgent');
    expect(message).toContain(
      'services.execution-gateway.priority: "urgent" is not a declared priority class; declared: critical, high',
    );
  });
});

describe('sidecars', () => {
  it.each(TARGETS)(
    'redis in %s runs a pinned redis_exporter that serves the metrics port, with the same restricted context',
    (target) => {
      const spec = pod(workload(target, 'redis'));
      expect(spec.containers.map((c: any) => c.name)).toEqual(['redis', 'redis-exporter']);
      const [redis, exporter] = spec.containers;
      expect(exporter.image).toBe('docker.io/oliver006/redis_exporter:v1.62.0');
      expect(exporter.args).toEqual(['--web.listen-address=:9090']);
      // it authenticates with redis's own password
      expect(exporter.env).toEqual([
        { name: 'REDIS_ADDR', value: 'redis://localhost:6379' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-secrets', key: 'REDIS_PASSWORD' } } },
      ]);
      // the metrics port is served by the exporter, and only by it
      expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
      expect(redis.ports.map((p: any) => p.name)).toEqual(['redis']);
      expect(exporter.securityContext).toEqual(redis.securityContext);
      // requests scaled by requestScale like the service's (development: a quarter), limits as configured
      // (ephemeral storage as configured, never scaled)
      expect(exporter.resources).toEqual(
        target === 'development'
          ? {
              requests: { cpu: '6m', memory: '8Mi', 'ephemeral-storage': '64Mi' },
              limits: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '256Mi' },
            }
          : {
              requests: { cpu: '25m', memory: '32Mi', 'ephemeral-storage': '64Mi' },
              limits: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '256Mi' },
            },
      );
      expect(exporter.readinessProbe.httpGet).toEqual({ path: '/health', port: 'metrics', scheme: 'HTTP' });
      expect(exporter.livenessProbe.tcpSocket).toEqual({ port: 'metrics' });
      expect(exporter.lifecycle).toBeUndefined();
      expect(exporter.volumeMounts).toEqual([{ name: 'redis-exporter-tmp', mountPath: '/tmp' }]);
      // the Service still publishes metrics, so the ServiceMonitor scrapes the exporter
      expect((find(manifestsOf(target), 'Service', 'redis') as any).spec.ports.map((p: any) => p.name)).toContain(
        'metrics',
      );
    },
  );

  it("are left alone by the VPA, which sizes only the service's container", () => {
    const vpa = find(manifestsOf('production-us-east-1'), 'VerticalPodAutoscaler', 'redis') as any;
    expect(vpa.spec.resourcePolicy.containerPolicies).toEqual([
      expect.objectContaining({ containerName: 'redis' }),
      { containerName: 'redis-exporter', mode: 'Off' },
    ]);
  });
});
