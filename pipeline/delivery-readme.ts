import {
  ARGOCD_NAMESPACE,
  DELIVERY_FOLDER,
  DeliveryTarget,
  applicationNameOf,
  targetPathOf,
} from '../charts/delivery-chart';
import { Manifest, Obj } from '../core/manifest';
import { targetNamespaces } from '../core/namespaces';
import { SERVER_SIDE_APPLY_BYTES, SYNC_WAVE, WAVES } from '../core/sync-waves';
import { TargetConfig } from '../config/types';

/** Where the delivery section goes in dist/<target>/README.md (after capacity, network, monitoring). */

/** The target README's "Delivery" section: how Argo CD applies the folder, releases, backups. */
export function renderDeliverySection(config: TargetConfig, manifests: readonly Manifest[]): string {
  const sync =
    config.delivery.sync === 'automated'
      ? 'automated (prune, self-heal)'
      : 'manual: run `argocd app sync` after review';
  const releases = (manifests as unknown as Obj[])
    .filter((m) => ['Deployment', 'StatefulSet', 'Rollout'].includes(m.kind))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((m) => {
      const bg = m.kind === 'Rollout' ? m.spec.strategy.blueGreen : undefined;
      const how = bg
        ? `blue/green (Argo Rollouts): preview \`${bg.previewService}\`, analysis \`${bg.prePromotionAnalysis?.templates?.[0]?.templateName}\`, manual promotion${bg.postPromotionAnalysis ? `, then \`${bg.postPromotionAnalysis.templates?.[0]?.templateName}\`` : ''}, old pods kept ${bg.scaleDownDelaySeconds}s`
        : m.kind === 'StatefulSet'
          ? 'rolling, one pod at a time (StatefulSet)'
          : 'rolling update';
      return `| ${m.metadata.name} | ${m.kind} | ${how} |`;
    });
  const schedules = (manifests as unknown as Obj[])
    .filter((m) => m.kind === 'Schedule')
    .map((m) => `| ${m.metadata.name} | \`${m.spec.schedule}\` (UTC) | ${m.spec.template.ttl} |`);
  const waves = new Map<number, Set<string>>();
  for (const m of manifests) {
    const wave = Number(m.metadata.annotations?.[SYNC_WAVE] ?? 0);
    waves.set(wave, (waves.get(wave) ?? new Set()).add(m.kind));
  }
  return [
    '## Delivery',
    '',
    `Argo CD Application \`${applicationNameOf(config)}\` (dist/${DELIVERY_FOLDER}/) applies \`${targetPathOf(config)}\` to ${config.delivery.server}; sync ${sync}.`,
    '',
    '| sync wave | kinds |',
    '| --- | --- |',
    ...[...waves.entries()]
      .sort(([a], [b]) => a - b)
      .map(([wave, kinds]) => `| ${wave} | ${[...kinds].sort().join(', ')} |`),
    '',
    '| workload | kind | release |',
    '| --- | --- | --- |',
    ...releases,
    '',
    ...blueGreenRunbook(config, manifests as unknown as Obj[]),
    ...(schedules.length
      ? [
          'Velero backups of the namespace (objects and volume snapshots):',
          '',
          '| Schedule (namespace velero) | cron | kept |',
          '| --- | --- | --- |',
          ...schedules,
        ]
      : ['No Velero backups in this environment.']),
  ].join('\n');
}

/** How to release, how the analysis decides and how to roll back, for a target with blue/green Rollouts. */
function blueGreenRunbook(config: TargetConfig, manifests: readonly Obj[]): string[] {
  const rollouts = manifests
    .filter((m) => m.kind === 'Rollout' && m.spec?.strategy?.blueGreen)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (!rollouts.length) return [];
  const ns = config.namespace;
  const smoke = (r: Obj) => {
    const template = manifests.find(
      (m) =>
        m.kind === 'AnalysisTemplate' &&
        m.metadata.name === r.spec.strategy.blueGreen.prePromotionAnalysis?.templates?.[0]?.templateName,
    );
    const metrics: Obj[] = template?.spec?.metrics ?? [];
    const job = metrics.find((m) => m.provider?.job);
    const command: string = job?.provider.job.spec.template.spec.containers[0].command.at(-1) ?? '';
    const target = /succeeded: (.+)"$/m.exec(command)?.[1] ?? 'the preview Service';
    const gates = metrics
      .filter((m) => m.provider?.prometheus)
      .map(
        (m) => `${m.name} (\`${m.successCondition.replace(/^len\(result\) > 0 && !isNaN\(result\[0\]\) && /, '')}\`)`,
      );
    return `| ${r.metadata.name} | ${target} | ${gates.join(', ') || 'none'} | ${r.spec.strategy.blueGreen.scaleDownDelaySeconds}s |`;
  };
  return [
    '### Releasing a blue/green service',
    '',
    `1. Change the image in the environment file, synthesize, merge; sync the Application. The Rollout starts a preview ReplicaSet at full size behind \`<service>-preview\`; the active Service keeps the old pods.`,
    "2. Pre-promotion analysis (`<service>-pre-promotion`): a smoke-test Job sends one request every 2 s for a minute through the preview Service and must get an answer to every one (a failure aborts the release); the Prometheus gates measure the new pods from the first minute on: data that meets the gate passes, data that misses it fails (more than one failed minute aborts the release), no data (the smoke test's requests are all the traffic a preview gets) is inconclusive and pauses the release for a human to decide.",
    `3. Promote by hand once the analysis passed (or after reviewing an inconclusive one): \`kubectl argo rollouts promote <service> -n ${ns}\`. The active Service switches to the new pods.`,
    '4. Post-promotion analysis (`<service>-post-promotion`): the same Prometheus gates on the live traffic; a failure aborts the release and switches the active Service back to the old pods (still the stable ReplicaSet until the analysis passed). The old pods are scaled down `scaleDownDelaySeconds` after the analysis passed (after the switch for a Rollout without one): until then `undo` switches back at once.',
    '',
    `Roll back: before promotion \`kubectl argo rollouts abort <service> -n ${ns}\` (the active Service never moved); after promotion, while the old pods still run, \`kubectl argo rollouts undo <service> -n ${ns}\` switches back at once; later, revert the image in Git and release again.`,
    '',
    '| Rollout | smoke test | Prometheus gates | old pods kept after promotion |',
    '| --- | --- | --- | --- |',
    ...rollouts.map(smoke),
    '',
  ];
}

/** The README of dist/argocd: how the folder is bootstrapped and what each Application does. */
export function renderDeliveryReadme(targets: readonly DeliveryTarget[], manifests: readonly Manifest[]): string {
  const root = manifests.find(
    (m) => m.kind === 'Application' && !targets.some((t) => applicationNameOf(t.config) === m.metadata.name),
  );
  const rows = [...targets]
    .sort((a, b) => a.config.target.localeCompare(b.config.target))
    .map(({ config }) => {
      const sync = config.delivery.sync === 'automated' ? 'automated, prune, self-heal' : '**manual**';
      const finalizer =
        config.tier === 'production'
          ? 'no (objects outlive the Application)'
          : 'yes (deleting the Application deletes the environment)';
      return `| ${applicationNameOf(config)} | \`${targetPathOf(config)}\` | ${config.delivery.server} | ${targetNamespaces(config).join(', ')} | ${sync} | ${finalizer} |`;
    });
  const waves = Object.entries(WAVES).map(([name, wave]) => `| ${wave} | ${name} |`);
  return [
    `# ${DELIVERY_FOLDER}`,
    '',
    "Generated by `npm run synth` from every target's configuration; do not edit. Argo CD applies",
    'this folder as an app-of-apps: the root Application reads it and keeps the Applications below',
    'in sync (only `application-*.yaml`). The AppProjects are bootstrap objects: an administrator',
    "applies them, and every change to them, with kubectl; the root's project may not touch them, so",
    'a commit cannot widen a project.',
    '',
    '## Bootstrap (once per Argo CD)',
    '',
    '```sh',
    `kubectl apply -n ${ARGOCD_NAMESPACE} -f ${targets[0]?.config.delivery.path ?? 'dist'}/${DELIVERY_FOLDER}/`,
    '```',
    '',
    `After that, merging a change of an Application is enough: \`${root?.metadata.name ?? 'the root Application'}\` applies it.`,
    `A change of an AppProject (\`appproject-*.yaml\`) is applied by an administrator the same way.`,
    'Argo CD 3.x tracks objects by annotation (its default), which leaves the `app.kubernetes.io/instance`',
    'label, part of every selector here, to the platform.',
    '',
    '## Applications',
    '',
    '| Application | path | cluster | namespaces | sync | resources finalizer |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    "Each Application runs in the AppProject of the same name, which allows only that target's",
    'repository, cluster and namespaces above, the cluster-scoped objects it emits (by name) and the',
    "namespaced kinds it emits: an Application cannot be pointed at another target's cluster.",
    '',
    'Production is synced by hand (`argocd app sync <name>`); a blue/green Rollout then waits at the',
    'preview for its analysis and a manual promotion (`kubectl argo rollouts promote <service>`).',
    'Argo CD reports the paused Rollout as Suspended and the sync operation waits on it: objects of later',
    'waves changed in the same commit are applied after the promotion.',
    '',
    '## Sync waves',
    '',
    'Every object of a target carries `argocd.argoproj.io/sync-wave` by kind (core/sync-waves.ts); Argo CD',
    'applies a wave only when the previous one is healthy. Grafana dashboards go with monitoring.',
    `Objects over ${SERVER_SIDE_APPLY_BYTES / 1024} KiB and dashboards are applied server-side.`,
    '',
    '| wave | what |',
    '| --- | --- |',
    ...waves,
    '',
  ].join('\n');
}
