import { TargetConfig } from '../config/types';
import { AMOUNT_KEYS, AmountKey, Capacity, capacityOf, format, headroomPercent, QUOTA_KEY } from './capacity';
import { Manifest } from '../core/manifest';

/** Where the capacity section goes in dist/<target>/README.md (after the object counts). */

const LABEL: Record<AmountKey, string> = {
  requestsCpu: 'CPU requests',
  limitsCpu: 'CPU limits',
  requestsMemory: 'memory requests',
  limitsMemory: 'memory limits',
  requestsEphemeral: 'ephemeral-storage requests',
  limitsEphemeral: 'ephemeral-storage limits',
};
const ORDER: AmountKey[] = [
  'requestsCpu',
  'limitsCpu',
  'requestsMemory',
  'limitsMemory',
  'requestsEphemeral',
  'limitsEphemeral',
];

/** The capacity section of a target's README: per workload, totals, the quota and the headroom. */
export function renderCapacitySection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const capacity = capacityOf(manifests);
  if (!capacity.workloads.length) return undefined;
  const pair = (k: AmountKey, min: number, max: number) => `${format(k, min)} / ${format(k, max)}`;
  const rows = capacity.workloads.map(
    (w) =>
      `| ${w.name}${w.vpaRaised ? ' (VPA maxAllowed at max)' : ''} | ${w.kind} | ${w.minReplicas === w.maxReplicas ? w.minReplicas : `${w.minReplicas}–${w.maxReplicas}`}${w.scaledBy === 'ScaledObject' ? ' (KEDA)' : ''} ` +
      `| ${w.surge} (${w.surgeReason}) | ${ORDER.map((k) => pair(k, w.atMin[k], w.atMax[k])).join(' | ')} | ${w.minReplicas} / ${w.podsAtMax} |`,
  );
  const quota = (k: AmountKey | 'pods') => (capacity.quota[k] === undefined ? 'none' : format(k, capacity.quota[k]!));
  const headroom = (k: AmountKey | 'pods') => {
    const h = headroomPercent(capacity.atMax[k], capacity.quota[k]);
    return h === undefined ? '–' : `${h}%`;
  };
  return [
    '## Capacity',
    '',
    `What the workloads of \`${config.namespace}\` ask of its ResourceQuota, at minimum scale and at maximum scale plus the`,
    'extra pods of a release (pipeline/capacity.ts): replicas are the range of the HPA or of the KEDA ScaledObject',
    '(marked KEDA) that scales the workload; rolling updates add `maxSurge` pods, a blue/green Rollout a full second',
    'ReplicaSet, a StatefulSet none; a VerticalPodAutoscaler that changes pods counts at its maxAllowed. `npm run synth`',
    'refuses a target whose maximum exceeds the quota.',
    '',
    `| workload | kind | replicas | surge at max | ${ORDER.map((k) => `${LABEL[k]} min / max`).join(' | ')} | pods min / max |`,
    `| --- | --- | --- | --- | ${ORDER.map(() => '---').join(' | ')} | --- |`,
    ...rows,
    `| **total** | | | | ${ORDER.map((k) => `**${pair(k, capacity.atMin[k], capacity.atMax[k])}**`).join(' | ')} | **${capacity.atMin.pods} / ${capacity.atMax.pods}** |`,
    `| quota | | | | ${ORDER.map((k) => quota(k)).join(' | ')} | ${quota('pods')} |`,
    `| headroom at max | | | | ${ORDER.map((k) => headroom(k)).join(' | ')} | ${headroom('pods')} |`,
    '',
  ].join('\n');
}

/** One line for the synth summary: the maximum against the quota, per resource. */
export function capacityLine(capacity: Capacity): string {
  return [...AMOUNT_KEYS, 'pods' as const]
    .map(
      (k) =>
        `${QUOTA_KEY[k]} ${format(k, capacity.atMax[k])}/${capacity.quota[k] === undefined ? '-' : format(k, capacity.quota[k]!)}`,
    )
    .join(', ');
}
