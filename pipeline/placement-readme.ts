import { pinnedNodeSelectorOf, spotPoolOf } from '../config/model';
import { TargetConfig } from '../config/types';
import { Manifest, Obj } from '../core/manifest';
import { cpuMillis } from '../core/quantity';
import { mayRunOn } from '../core/scheduling';
import { onDemandNodesOf, spotNodeOf } from './placement-check';
import { podTemplateOf } from './pod-security';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Rollout']);

/** The disruption budget of a workload's pods, in words (`maxUnavailable 1`), read from its PDB. */
function budgetOf(manifests: readonly Manifest[], labels: Record<string, string>): string {
  const pdb = manifests.find(
    (m) =>
      m.kind === 'PodDisruptionBudget' &&
      Object.entries(((m as Obj).spec?.selector?.matchLabels ?? {}) as Record<string, string>).every(
        ([k, v]) => labels[k] === v,
      ),
  ) as Obj | undefined;
  if (!pdb) return 'no PodDisruptionBudget';
  const spec = pdb.spec ?? {};
  return spec.maxUnavailable !== undefined
    ? `maxUnavailable ${spec.maxUnavailable}`
    : `minAvailable ${spec.minAvailable}`;
}

const selectorText = (s: Record<string, string>) =>
  Object.entries(s)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');

/**
 * Where the pods may run, read back from the synthesized pod templates with the scheduler's filters
 * (core/scheduling.ts): which may land on the spot pool and what happens to them when it goes, and
 * which have pinned CPUs with the node requirement that needs. Only for targets that use either.
 */
export function renderPlacementSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  const spotNode = spotNodeOf(config);
  const { label, taint } = spotPoolOf(config);
  const pinned = pinnedNodeSelectorOf(config);
  const onDemand = onDemandNodesOf(config);
  const rows: Array<{ name: string; kind: string; spot: string; gone: string; pinned: string }> = [];
  let anySpot = false;
  let anyPinned = false;
  for (const m of manifests) {
    if (!WORKLOADS.has(m.kind)) continue;
    const template = podTemplateOf(m);
    if (!template) continue;
    const spec = template.spec;
    const labels = ((m as Obj).spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
    const onSpot = mayRunOn(spec, spotNode);
    const selector = (spec.nodeSelector ?? {}) as Record<string, string>;
    const isPinned = Object.entries(pinned).every(([k, v]) => selector[k] === v);
    anySpot ||= onSpot;
    anyPinned ||= isPinned;
    const cores = isPinned
      ? (spec.containers ?? [])
          .map((c: Obj) => ({ name: c.name, cpu: cpuMillis(String(c.resources?.limits?.cpu ?? '0')) }))
          .filter((c: { cpu: number }) => c.cpu > 0 && c.cpu % 1000 === 0)
          .map((c: { name: string; cpu: number }) => `${c.cpu / 1000} (${c.name})`)
          .join(', ')
      : '';
    const fallback = onDemand.length ? onDemand.some((n) => mayRunOn(spec, n)) : true;
    rows.push({
      name: m.metadata.name,
      kind: m.kind,
      spot: onSpot ? 'yes, preferred' : 'no',
      gone: onSpot
        ? `rescheduled on on-demand nodes${fallback ? '' : ' (none admits them!)'}, drained within its PDB (${budgetOf(manifests, labels)})`
        : 'not affected',
      pinned: isPinned ? `${cores || 'none'}; nodes ${selectorText(pinned)}` : '–',
    });
  }
  const showSpot = anySpot || config.cluster.spot !== undefined;
  if (!showSpot && !anyPinned) return undefined;
  const spotText = [
    `Spot nodes are those labelled \`${label.key}=${label.value}\`; they must carry the taint`,
    `\`${taint.key}=${taint.value}:${taint.effect}\` (cluster.spot), which only the pods of services placed on spot tolerate.`,
    'Those prefer the spot label (preferred, not required, node affinity): when the pool is reclaimed or scaled to zero',
    'their pods are rescheduled on on-demand nodes (a drain evicts them within their PodDisruptionBudget; a reclaimed',
    'node takes its pods at once, like a node failure), and they do not move back by themselves when spot returns',
    '(IgnoredDuringExecution: the next release or a descheduler does). Their zone spread counts only nodes whose taints',
    'they tolerate (`nodeTaintsPolicy: Honor`), and the on-demand pool (cluster.nodes) holds the whole quota with a zone',
    'drained (synth checks it): losing the spot pool costs money, not capacity. Latency-critical services (pinned CPUs,',
    'Guaranteed QoS or an order latency alert) and stateful ones are refused on spot.',
    '',
  ];
  const pinnedText = [
    `Pinned pods are Guaranteed QoS with whole CPUs and select the nodes labelled ${selectorText(pinned)} (cluster.cpuPinning).`,
    "Those nodes' kubelet must run the static CPU manager policy (`--cpu-manager-policy=static`, or `cpuManagerPolicy:",
    'static` in its KubeletConfiguration, with CPUs reserved for the system, e.g. `--reserved-cpus`): it gives each',
    'container with whole CPUs of a Guaranteed pod exclusive cores; under the default `none` policy the pods run but',
    'share their cores. Nothing in this folder sets it: the node pool does.',
    '',
  ];
  return [
    '## Nodes: spot capacity and pinned CPUs',
    '',
    "Where the pods may run, read back from the pod templates with the scheduler's filters (pipeline/placement-check.ts).",
    '',
    ...(showSpot ? spotText : []),
    ...(anyPinned ? pinnedText : []),
    `| workload | kind |${showSpot ? ' may run on spot | when the spot pool goes |' : ''}${anyPinned ? ' exclusive cores per pod (container); nodes |' : ''}`,
    `| --- | --- |${showSpot ? ' --- | --- |' : ''}${anyPinned ? ' --- |' : ''}`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.kind} |${showSpot ? ` ${r.spot} | ${r.gone} |` : ''}${anyPinned ? ` ${r.pinned} |` : ''}`,
    ),
    '',
  ].join('\n');
}
