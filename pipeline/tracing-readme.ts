import { TargetConfig } from '../config/types';
import { collectorOf, POD_NAME_VARIABLE, tracingEnabled } from '../config/tracing-rules';
import { Manifest, Obj, ofKind } from '../core/manifest';
import { portsToCollector } from './network-policy-check';

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Rollout'];

/**
 * "Tracing": where spans go, and per service what its pods were given, read back from the
 * synthesized workloads (the `OTEL_*` variables of its main container) and NetworkPolicies (the
 * egress to the collector), so the section shows what the cluster runs. Nothing for a target
 * whose configuration says nothing of tracing.
 */
export function renderTracingSection(config: TargetConfig, manifests: readonly Manifest[]): string | undefined {
  if (!config.tracing) return undefined;
  const lines = ['## Tracing (OpenTelemetry)', ''];
  const collector = collectorOf(config);
  if (!tracingEnabled(config) || !collector) {
    lines.push(
      'Tracing is off in this target (`tracing.enabled: false`): no container gets `OTEL_*` variables and no NetworkPolicy lets a pod reach a collector.',
    );
    return lines.join('\n');
  }
  const where = collector.inCluster
    ? `the collector's pods (\`${Object.entries(collector.inCluster.podSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join('`, `')}\`) in namespace \`${collector.inCluster.namespace}\``
    : `the external peer \`${collector.external!.name}\` (${collector.external!.cidrs.join(', ')})`;
  lines.push(
    `Spans go over OTLP/${collector.protocol === 'grpc' ? 'gRPC' : 'HTTP (protobuf)'} to \`${collector.url}\`: ${where}, port ${collector.port}/TCP. ` +
      "Each traced service's NetworkPolicy lets its pods reach exactly that, and a service that is not traced cannot reach the collector at all (pipeline/network-policy-check.ts checks both).",
    '',
    'Every container of a traced service gets `OTEL_SERVICE_NAME` (the service), `OTEL_EXPORTER_OTLP_ENDPOINT` and `_PROTOCOL`, ' +
      "`OTEL_TRACES_SAMPLER=parentbased_traceidratio` with its ratio as `OTEL_TRACES_SAMPLER_ARG` (a service samples the traces it starts at that ratio and follows its caller's decision otherwise, so a trace is whole or absent), " +
      '`OTEL_PROPAGATORS=tracecontext,baggage`, `OTEL_METRICS_EXPORTER` and `OTEL_LOGS_EXPORTER` `none` (Prometheus scrapes metrics, logs go to stdout), ' +
      `and \`OTEL_RESOURCE_ATTRIBUTES\`: \`service.namespace\`, \`service.version\` (the image tag), \`deployment.environment.name\` and \`deployment.environment\`, \`k8s.namespace.name\`${config.region ? ',' : ' and'} \`k8s.pod.name\` (from the downward API through \`${POD_NAME_VARIABLE}\`)${config.region ? ` and \`cloud.region\` (\`${config.region}\`)` : ''}.`,
    '',
    "With a service mesh in the namespace, the collector must either be outside the mesh or admit these services' identities on its port (an AuthorizationPolicy in its own namespace).",
    '',
    '| service | workload | sampling ratio | egress to the collector |',
    '| --- | --- | --- | --- |',
  );
  const policies = ofKind(manifests, 'NetworkPolicy') as Obj[];
  const workloads = (manifests as readonly Obj[])
    .filter((m) => WORKLOAD_KINDS.includes(m.kind))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const workload of workloads) {
    const name = workload.metadata.name as string;
    const env: Obj[] = workload.spec?.template?.spec?.containers?.[0]?.env ?? [];
    const ratio = env.find((e) => e.name === 'OTEL_TRACES_SAMPLER_ARG')?.value;
    const policy = policies.find((p) => p.metadata.name === name);
    const ports = new Set<string>();
    for (const rule of policy?.spec?.egress ?? []) {
      const opened = portsToCollector(rule, collector);
      if (opened?.every) ports.add('every port');
      for (const p of opened?.ports ?? []) ports.add(`${p.port}/${p.protocol ?? 'TCP'}`);
    }
    lines.push(
      `| ${name} | ${workload.kind} | ${ratio ?? 'not traced'} | ${ports.size ? [...ports].join(', ') : 'none'} |`,
    );
  }
  return lines.join('\n');
}
