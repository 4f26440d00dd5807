import { CLUSTER_SCOPED_KINDS, find, Manifest } from '../../core/manifest';
import {
  jsonBytesAtMost,
  SERVER_SIDE_APPLY_BYTES,
  SYNC_OPTIONS,
  SYNC_WAVE,
  WAVES,
  withDeliveryAnnotations,
} from '../../core/sync-waves';
import { configOf, manifestsOf, TARGETS } from '../helpers';

const waveOf = (m: Manifest) => Number(m.metadata.annotations?.[SYNC_WAVE]);

describe.each(TARGETS)('sync waves of %s', (target) => {
  const manifests = () => manifestsOf(target);

  it('annotate every object with an integer wave', () => {
    for (const m of manifests())
      expect([m.kind, m.metadata.name, Number.isInteger(waveOf(m))]).toEqual([m.kind, m.metadata.name, true]);
  });

  it('apply the namespace and its guard rails, identities, config and secrets before workloads, monitoring and backups after', () => {
    const before = (kinds: string[], wave: number) => {
      for (const m of manifests().filter((x) => kinds.includes(x.kind)))
        expect([m.kind, m.metadata.name, waveOf(m) < wave]).toEqual([m.kind, m.metadata.name, true]);
    };
    const workloads = manifests().filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind));
    const first = Math.min(...workloads.map(waveOf));
    const last = Math.max(...workloads.map(waveOf));
    expect(first).toBe(WAVES.workloads);
    expect(waveOf(manifests().find((m) => m.kind === 'Namespace')!)).toBe(Math.min(...manifests().map(waveOf)));
    before(
      [
        'Namespace',
        'ResourceQuota',
        'LimitRange',
        'PriorityClass',
        'ServiceAccount',
        'Role',
        'RoleBinding',
        'ClusterSecretStore',
        'ExternalSecret',
        'NetworkPolicy',
        'Service',
        'AnalysisTemplate',
        'PodDisruptionBudget',
      ],
      first,
    );
    before(['ResourceQuota', 'LimitRange'], WAVES.identity);
    before(['ClusterSecretStore'], WAVES.config);
    for (const m of manifests().filter((x) =>
      ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'AlertmanagerConfig', 'Schedule'].includes(x.kind),
    ))
      expect(waveOf(m)).toBeGreaterThan(last);
    for (const m of manifests().filter((x) => x.kind === 'ConfigMap')) {
      const dashboard = m.metadata.labels?.[configOf(target).monitoring.grafana.dashboardLabel] !== undefined;
      expect([m.metadata.name, waveOf(m)]).toEqual([m.metadata.name, dashboard ? WAVES.monitoring : WAVES.config]);
    }
  });

  it('apply Grafana dashboards server-side, and nothing small that is not one', () => {
    for (const m of manifests()) {
      const dashboard =
        m.kind === 'ConfigMap' && m.metadata.labels?.[configOf(target).monitoring.grafana.dashboardLabel] !== undefined;
      if (dashboard) expect(m.metadata.annotations?.[SYNC_OPTIONS]).toBe('ServerSideApply=true');
      else if (JSON.stringify(m).length < 64 * 1024)
        expect([m.kind, m.metadata.name, m.metadata.annotations?.[SYNC_OPTIONS]]).toEqual([
          m.kind,
          m.metadata.name,
          undefined,
        ]);
    }
  });
});

describe('delivery annotations', () => {
  const config = () => configOf('staging');
  const namespace = () => find(manifestsOf('staging'), 'Namespace', 'trading-staging');

  it('keep a wave a construct set itself', () => {
    const own = { ...namespace(), metadata: { ...namespace().metadata, annotations: { [SYNC_WAVE]: '-20' } } };
    expect(withDeliveryAnnotations(config(), own).metadata.annotations?.[SYNC_WAVE]).toBe('-20');
  });

  it('apply objects too large for a client-side apply server-side', () => {
    const big = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: 'trading-staging' },
      data: { blob: 'x'.repeat(200 * 1024) },
    } as Manifest;
    expect(withDeliveryAnnotations(config(), big).metadata.annotations).toEqual({
      [SYNC_OPTIONS]: 'ServerSideApply=true',
      [SYNC_WAVE]: String(WAVES.config),
    });
  });

  it('decide server-side apply by the exact JSON size, also for escapes and characters of several bytes', () => {
    const sized = (blob: string) =>
      ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'sized', namespace: 'trading-staging' },
        data: { blob },
      }) as Manifest;
    const overhead = Buffer.byteLength(JSON.stringify(sized('')));
    const ssa = (m: Manifest) => withDeliveryAnnotations(config(), m).metadata.annotations?.[SYNC_OPTIONS];
    expect(ssa(sized('x'.repeat(SERVER_SIDE_APPLY_BYTES - overhead)))).toBeUndefined();
    expect(ssa(sized('x'.repeat(SERVER_SIDE_APPLY_BYTES - overhead + 1)))).toBe('ServerSideApply=true');
    // "é" is 2 bytes of UTF-8, "\n" 2 characters of JSON: half as many of them make the same size
    expect(ssa(sized('é'.repeat((SERVER_SIDE_APPLY_BYTES - overhead) / 2)))).toBeUndefined();
    expect(ssa(sized('\n'.repeat((SERVER_SIDE_APPLY_BYTES - overhead) / 2 + 1)))).toBe('ServerSideApply=true');
  });

  it('bound the JSON size from above for every object of every target', () => {
    const odd = { s: '\u0000\u001f"\\é€😀\ud800', n: [-1.2345678901234567e-308, 0, true, false, null], o: {}, a: [] };
    for (const m of [...TARGETS.flatMap((t) => manifestsOf(t)), odd as unknown as Manifest]) {
      expect(jsonBytesAtMost(m)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(m)));
    }
  });

  it('put unknown kinds in the workload wave and leave names alone', () => {
    const other = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'trading-staging' },
    } as Manifest;
    const annotated = withDeliveryAnnotations(config(), other);
    expect(annotated.metadata).toEqual({ annotations: { [SYNC_WAVE]: '0' }, name: 'w', namespace: 'trading-staging' });
    expect(CLUSTER_SCOPED_KINDS.has('Widget')).toBe(false);
  });
});
