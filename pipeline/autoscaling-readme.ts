import { TargetConfig } from '../config/types';
import { Manifest, Obj } from '../core/manifest';

/**
 * The KEDA section of a target's README: what each ScaledObject scales, between which replicas,
 * on which triggers. Read from the synthesized ScaledObjects; targets without one get no section.
 */
export function renderAutoscalingSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const scaled = manifests.filter((m) => m.kind === 'ScaledObject');
  if (!scaled.length) return undefined;
  const rows = scaled.flatMap((m) => {
    const spec = (m.spec ?? {}) as Obj;
    const target = `${spec.scaleTargetRef?.kind ?? 'Deployment'}/${spec.scaleTargetRef?.name}`;
    const replicas = `${spec.minReplicaCount ?? 0}–${spec.maxReplicaCount ?? 100}`;
    return ((spec.triggers ?? []) as Obj[]).map((t) => {
      const what =
        t.type === 'prometheus' ? `${t.name}: \`${cell(t.metadata.query)}\`` : `${t.type} utilisation of requests`;
      const goal =
        t.type === 'prometheus'
          ? t.metricType === 'Value'
            ? `${t.metadata.threshold} (value)`
            : `${t.metadata.threshold} per pod`
          : `${t.metadata.value}%`;
      return `| ${m.metadata.name} | ${target} | ${replicas} | ${what} | ${goal} |`;
    });
  });
  const servers = [
    ...new Set(
      scaled.flatMap((m) =>
        (((m.spec as Obj)?.triggers ?? []) as Obj[]).flatMap((t) =>
          t.type === 'prometheus' ? [t.metadata.serverAddress] : [],
        ),
      ),
    ),
  ];
  return [
    '## Autoscaling on trading metrics (KEDA)',
    '',
    `These workloads of \`${config.namespace}\` are scaled by a KEDA ScaledObject: KEDA makes and owns their HPA`,
    '(`keda-hpa-<name>`; dist/ holds none, and the workload no `replicas`), feeding it the Prometheus queries below',
    `(from ${servers.map((s) => `\`${s}\``).join(', ') || 'no Prometheus'}) beside CPU and memory. The cluster must run KEDA 2.15 (its operator and`,
    'metrics API server); without it these workloads stay at one replica.',
    '',
    '| ScaledObject | target | replicas | scales on | target value |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Text that stays inside one Markdown table cell. */
function cell(text: string): string {
  return String(text).replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/`/g, "'");
}
