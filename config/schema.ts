/**
 * JSON Schema (draft-07) for the files in `environments/`.
 *
 * `targetSchema` describes one merged target (defaults + environment + region) and lists what is
 * required; `layerSchema()` derives from it the schema of a single file, where everything is
 * optional but unknown keys are still errors. `npm run schema` publishes the layer schema as
 * `environments/schema.json` for editors (`# yaml-language-server: $schema=./schema.json`).
 */

import { REASON_ALLOWED, REASON_PATTERN } from '../core/reason';
import { CONFIG_MAP_KEY, DNS1035_LABEL, LABEL_KEY, LABEL_KEY_RULE, LABEL_VALUE, LABEL_VALUE_RULE } from '../core/k8s-names';

type Schema = Record<string, unknown>;

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const patterns = {
  dnsLabel: DNS_LABEL,
  cpu: '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$',
  memory: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$',
  duration: '^([0-9]+(ms|s|m|h|d|w|y))+$',
  cidr: '^(([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$',
  envName: '^[A-Za-z_][A-Za-z0-9_]*$',
  metricName: '^[a-zA-Z_:][a-zA-Z0-9_:]*$',
  cron: '^(\\S+\\s+){4}\\S+$',
};

const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const pattern = (p: string, description: string): Schema => ({ type: 'string', pattern: p, description });
const int = (minimum: number, maximum?: number, description?: string): Schema => ({
  type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}), ...(description ? { description } : {}),
});
const num = (minimum: number, maximum: number, description: string): Schema => ({ type: 'number', minimum, maximum, description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}), ...extra,
});
const mapOf = (value: Schema, description: string, names: Schema = { pattern: DNS_LABEL, maxLength: 63 }): Schema => ({
  type: 'object', description, propertyNames: names, additionalProperties: value,
});
/** Prose at most `max` characters long: it is written into objects the API server limits in size. */
const text = (max: number, description?: string): Schema => ({ ...str(description), maxLength: max });
/** The longest description of a service, peer, flag or priority class (written into dashboards and ConfigMaps). */
const DESCRIPTION_MAX = 1024;
/** The longest alert text (summary, description, reason): annotations of an object are limited to 256 KiB together. */
const ALERT_TEXT_MAX = 4096;
const labelKey = { type: 'string', pattern: LABEL_KEY, description: LABEL_KEY_RULE };
const labelValue = { type: 'string', pattern: LABEL_VALUE, description: LABEL_VALUE_RULE };
/** Labels written onto objects as they are (keys and values as the API server accepts them). */
const labels = (description: string): Schema => ({ type: 'object', description, propertyNames: labelKey, additionalProperties: labelValue });
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const oneOfStrings = (values: string[], description?: string): Schema => ({
  type: 'string', enum: values, ...(description ? { description } : {}),
});

const dnsLabel = { ...pattern(DNS_LABEL, 'a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters'), maxLength: 63 };
const cpu = pattern(patterns.cpu, 'a CPU quantity such as "250m", "1" or "1.5"');
const memory = pattern(patterns.memory, 'a memory quantity such as "512Mi", "2Gi" or "1G"');
const duration = pattern(patterns.duration, 'a duration such as "30s", "5m", "1h" or "1h30m"');
const cidr = pattern(patterns.cidr, 'a CIDR such as "203.0.113.0/24"');
const portNumber = int(1, 65535, 'a port number, 1-65535');
const portRef: Schema = { oneOf: [portNumber, { ...dnsLabel, maxLength: 15, description: 'a port name declared in ports' }] };
const severity = oneOfStrings(['critical', 'warning', 'info']);
/** Why an exception or a number is what it is: words, never blank (core/reason.ts). */
const reason = (what: string): Schema => pattern(REASON_PATTERN, `${REASON_ALLOWED} (${what})`);

/**
 * The thresholds of the standard alerts: complete in the merged target (`required`), any subset
 * in a service's overrides. Ratios are 0-1, durations Prometheus durations.
 */
function thresholdsSchema(required: boolean): Schema {
  const base = (extra: Record<string, Schema>, keys: string[]) => obj({ ...extra, reason: reason('why the numbers are what they are; written to the alert\'s threshold_reason annotation') }, required ? [...keys, 'reason'] : []);
  const ratio = (what: string) => num(0, 1, `a ratio between 0 and 1 (${what})`);
  const blocks: Record<string, Schema> = {
    targetDown: base({ for: duration }, ['for']),
    httpErrors: base({ warning: ratio('0.01 is 1%'), critical: ratio('0.05 is 5%'), window: duration, for: duration }, ['warning', 'critical', 'window', 'for']),
    latency: base({ window: duration, for: duration }, ['window', 'for']),
    crashLooping: base({ restarts: int(0, 1000, 'restarts within the window'), window: duration }, ['restarts', 'window']),
    memory: base({ ratio: ratio('of the memory limit, 0.8 is 80%'), for: duration }, ['ratio', 'for']),
    cpuThrottling: base({ ratio: ratio('of CFS periods throttled, 0.25 is 25%'), window: duration, for: duration }, ['ratio', 'window', 'for']),
    hpaAtMax: base({ for: duration }, ['for']),
  };
  return obj(blocks, required ? Object.keys(blocks) : []);
}

const definitions: Record<string, Schema> = {
  resourceAmounts: obj({ cpu, memory, ephemeralStorage: pattern(patterns.memory, 'local ephemeral storage (logs, /tmp), a quantity such as "256Mi" or "1Gi"') }, ['cpu', 'memory']),
  partialResourceAmounts: obj({ cpu, memory }),
  resources: obj({ requests: ref('resourceAmounts'), limits: ref('resourceAmounts') }, ['requests', 'limits']),
  port: obj({
    name: { ...dnsLabel, maxLength: 15, description: 'a port name (IANA_SVC_NAME): at most 15 characters, lower-case letters, digits and "-"' },
    port: portNumber,
    protocol: oneOfStrings(['TCP', 'UDP']),
  }, ['name', 'port']),
  probe: obj({
    http: obj({ path: pattern('^/', 'an absolute URL path'), port: portRef }, ['path', 'port']),
    tcp: obj({ port: portRef }, ['port']),
    grpc: obj({ port: portNumber }, ['port']),
    exec: obj({ command: arr(str(), { minItems: 1 }) }, ['command']),
    initialDelaySeconds: int(0, 3600),
    periodSeconds: int(1, 3600),
    timeoutSeconds: int(1, 3600),
    failureThreshold: int(1, 100),
  }, [], { minProperties: 1 }),
  hpaMetric: {
    type: 'object',
    required: ['type'],
    properties: { type: oneOfStrings(['resource', 'pods', 'external'], 'the HPA metric source') },
    allOf: [
      {
        if: { properties: { type: { const: 'resource' } } },
        then: obj({ type: str(), resource: oneOfStrings(['cpu', 'memory']), targetUtilization: int(1, 100, 'average utilisation of requests, in percent') }, ['type', 'resource', 'targetUtilization']),
      },
      {
        if: { properties: { type: { const: 'pods' } } },
        then: obj({ type: str(), metric: str('a per-pod custom metric, e.g. http_requests_per_second'), targetAverageValue: str('a quantity such as "100" or "500m"') }, ['type', 'metric', 'targetAverageValue']),
      },
      {
        if: { properties: { type: { const: 'external' } } },
        then: obj({
          type: str(),
          metric: str('an external metric name'),
          selector: { type: 'object', additionalProperties: { type: 'string' } },
          targetValue: str(),
          targetAverageValue: str(),
        }, ['type', 'metric']),
      },
    ],
  },
  scalingRule: obj({
    stabilizationWindowSeconds: int(0, 3600),
    percent: int(1, 1000),
    pods: int(1, 1000),
    periodSeconds: int(1, 1800),
  }, ['stabilizationWindowSeconds', 'periodSeconds']),
  dependency: {
    oneOf: [
      obj({ service: dnsLabel, port: portRef }, ['service', 'port']),
      obj({ external: dnsLabel, ports: arr(portNumber, { minItems: 1 }) }, ['external']),
    ],
    description: '{service, port} for a service of this platform or {external, ports?} for a peer declared under externals',
  },
  apiAccess: obj({
    apiGroup: str('API group, "" for the core group'),
    resources: arr(str(), { minItems: 1 }),
    verbs: arr(oneOfStrings(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate', 'approve', 'sign']), { minItems: 1 }),
    resourceNames: arr(str(), { minItems: 1 }),
    scope: oneOfStrings(['namespace', 'cluster']),
    reason: reason('why the service needs a grant that can take over the cluster (core/rbac-risks.ts); such grants are refused in production'),
  }, ['apiGroup', 'resources', 'verbs']),
  secretRef: obj({
    env: pattern(patterns.envName, 'an environment variable name'),
    remoteKey: str('the key in the cloud secret manager'),
    property: str(),
  }, ['env', 'remoteKey']),
  customAlert: obj({
    alert: pattern('^[A-Z][A-Za-z0-9]*$', 'an alert name in UpperCamelCase'),
    expr: str('a PromQL expression'),
    for: duration,
    severity,
    summary: text(ALERT_TEXT_MAX, 'a Prometheus template: {{ $value }}, {{ $labels.<name> }}; {{ "{{" }} for literal braces'),
    description: text(ALERT_TEXT_MAX, 'a Prometheus template: {{ $value }}, {{ $labels.<name> }}; {{ "{{" }} for literal braces'),
    reason: { ...reason('why this threshold'), maxLength: ALERT_TEXT_MAX },
  }, ['alert', 'expr', 'for', 'severity', 'summary', 'description', 'reason']),
  sidecar: obj({
    name: { ...dnsLabel, description: 'the container name, unique in the pod' },
    image: pattern('^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
      'an image reference "registry/repo:tag", "registry/repo@sha256:<64 hex>" or both'),
    command: arr(str()),
    args: arr(str()),
    ports: { ...arr(portRef, { uniqueItems: true }), description: 'names (or numbers) of the service\'s ports this container serves' },
    resources: ref('resources'),
    env: { type: 'object', propertyNames: { pattern: patterns.envName }, additionalProperties: { type: 'string' } },
    probes: obj({ readiness: ref('probe'), liveness: ref('probe'), startup: ref('probe') }),
  }, ['name', 'image', 'resources']),
  standardThresholds: thresholdsSchema(true),
  thresholdOverrides: thresholdsSchema(false),
  service: obj({
    description: text(DESCRIPTION_MAX, `one line on what the service does, at most ${DESCRIPTION_MAX} characters`),
    component: dnsLabel,
    image: pattern('^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
      'an image reference "registry/repo:tag", "registry/repo@sha256:<64 hex>" or both'),
    workload: oneOfStrings(['deployment', 'statefulset']),
    ports: arr(ref('port'), { minItems: 1 }),
    expose: oneOfStrings(['public', 'cluster']),
    ingressPath: pattern('^/', 'an absolute URL path'),
    replicas: {
      oneOf: [int(0, 1000, 'a fixed number of replicas, 0 or more'), obj({ min: int(0, 1000, 'minimum replicas, 0 or more'), max: int(1, 1000, 'maximum replicas, 1 or more') }, ['min', 'max'])],
      description: 'a fixed number of replicas (a whole number, 0 or more), or {min, max} for an HPA with 0 <= min <= max',
    },
    autoscaling: obj({
      metrics: arr(ref('hpaMetric'), { minItems: 1 }),
      behavior: obj({ scaleUp: ref('scalingRule'), scaleDown: ref('scalingRule') }),
    }, ['metrics']),
    vpa: obj({
      updateMode: oneOfStrings(['Off', 'Initial', 'Recreate', 'Auto']),
      controlledResources: arr(oneOfStrings(['cpu', 'memory']), { uniqueItems: true }),
      minAllowed: ref('partialResourceAmounts'),
      maxAllowed: ref('partialResourceAmounts'),
    }),
    resources: ref('resources'),
    qos: oneOfStrings(['guaranteed', 'burstable']),
    priority: dnsLabel,
    probes: obj({ readiness: ref('probe'), liveness: ref('probe'), startup: ref('probe') }),
    env: { type: 'object', propertyNames: { pattern: patterns.envName }, additionalProperties: { type: 'string' } },
    secrets: arr(ref('secretRef')),
    // the credential the service demands of its clients (config/types.ts ServiceConfig.auth)
    auth: ref('secretRef'),
    config: {
      type: 'object',
      propertyNames: { pattern: CONFIG_MAP_KEY, maxLength: 253, description: 'ConfigMap keys: at most 253 letters, digits, "-", "_" and "."' },
      additionalProperties: { type: 'string' },
    },
    dependsOn: arr(ref('dependency')),
    api: arr(ref('apiAccess')),
    storage: obj({ size: memory, mountPath: pattern('^/', 'an absolute path') }, ['size', 'mountPath']),
    peers: obj({
      startTogether: bool('start and scale all replicas at once (podManagementPolicy Parallel) instead of one by one'),
      discoverBeforeReady: bool('publish every replica in the headless Service\'s DNS before it is ready (publishNotReadyAddresses), so a group can form its quorum'),
      port: { ...portRef, description: 'the port (a name declared in ports, or its number) the replicas talk to each other on; NetworkPolicies open it between them' },
    }),
    release: obj({
      strategy: oneOfStrings(['rolling', 'blueGreen']),
      blueGreen: obj({
        scaleDownDelaySeconds: int(0, 86400),
        successRate: num(0, 1, 'a ratio between 0 and 1'),
        latencyP99Seconds: num(0, 3600, 'seconds'),
      }),
    }, ['strategy']),
    spreadPolicy: oneOfStrings(['DoNotSchedule', 'ScheduleAnyway'], 'what production does when pods cannot spread evenly; staging and development always spread best-effort (ScheduleAnyway)'),
    featureFlags: bool('mount the feature-flags ConfigMap at /etc/feature-flags'),
    monitoring: obj({
      interval: duration,
      http: bool('the service serves http_requests_total and http_request_duration_seconds'),
      slo: obj({ availability: num(50, 99.9999, 'availability target in percent, e.g. 99.9') }, ['availability']),
      thresholds: ref('thresholdOverrides'),
      metrics: obj({
        requests: pattern(patterns.metricName, 'a counter of requests handled, e.g. redis_commands_processed_total'),
        errors: pattern(patterns.metricName, 'a counter of failed or rejected requests'),
        duration: {
          oneOf: [
            obj({ histogram: pattern(patterns.metricName, 'a histogram\'s base name, without _bucket') }, ['histogram']),
            obj({ sum: pattern(patterns.metricName, 'a counter of seconds spent'), count: pattern(patterns.metricName, 'a counter of requests; default: requests') }, ['sum']),
          ],
          description: '{histogram} for quantiles, or {sum, count?} for the mean',
        },
      }),
      alerts: obj({
        latencyP95Seconds: num(0, 3600, 'seconds'),
        latencyMeanSeconds: num(0, 3600, 'seconds'),
        orderLatency: obj({ quantile: num(0, 1, 'a quantile such as 0.99'), thresholdSeconds: num(0, 3600, 'seconds'), for: duration }, ['quantile', 'thresholdSeconds', 'for']),
        orderRejectionRatio: num(0, 1, 'a ratio between 0 and 1'),
        marketDataStaleSeconds: num(0, 86400, 'seconds'),
        drawdownRatio: num(0, 1, 'a ratio between 0 and 1'),
        custom: arr(ref('customAlert')),
      }),
    }),
    command: arr(str()),
    args: arr(str()),
    runAsUser: int(10000, 2147483647, 'a UID (and GID, fsGroup) of 10000 or more, outside the system users of images and nodes'),
    sidecars: arr(ref('sidecar')),
  }, ['description', 'component', 'image', 'ports', 'replicas', 'resources', 'probes']),
  externalPeer: obj({
    description: text(DESCRIPTION_MAX),
    cidrs: arr(cidr, { minItems: 1 }),
    ports: arr(ref('port'), { minItems: 1 }),
    reason: reason('why the peer needs blocks that open (nearly) the whole internet'),
    externalName: str('DNS name published as an ExternalName Service'),
  }, ['cidrs', 'ports']),
  featureFlag: obj({
    description: text(DESCRIPTION_MAX),
    owner: { ...dnsLabel, description: 'the service that reads the flag and answers for it; the feature-flags ConfigMap is mounted into its pods' },
    enabled: bool('whether the flag is on'),
    rolloutPercent: int(0, 100, 'a whole percentage, 0-100'),
  }, ['owner', 'enabled', 'rolloutPercent']),
  priorityClass: obj({ name: dnsLabel, value: int(0, 1000000000), description: text(DESCRIPTION_MAX) }, ['name', 'value', 'description']),
  backup: obj({
    name: dnsLabel,
    schedule: pattern(patterns.cron, 'a five-field cron expression, UTC'),
    ttl: duration,
    extraNamespaces: arr(dnsLabel, { uniqueItems: true, description: 'namespaces backed up together with the target namespace (e.g. kube-system for a full system backup)' }),
  }, ['name', 'schedule', 'ttl']),
};

const targetProperties: Record<string, Schema> = {
  $schema: str('the JSON Schema editors use for this file'),
  tier: oneOfStrings(['development', 'staging', 'production'], 'which policies apply: probes are required from staging, digests in production'),
  platform: obj({ name: dnsLabel, owner: str('the owning team, shown in annotations') }, ['name', 'owner']),
  namespace: dnsLabel,
  cluster: obj({
    name: dnsLabel,
    // the node pool the target runs on: synth checks pods fit it, the live twin (test/live) builds it
    nodes: obj({
      zones: arr(dnsLabel, { minItems: 1, uniqueItems: true, description: 'the zones of the pool (topology.kubernetes.io/zone), e.g. [us-east-1a, us-east-1b, us-east-1c]' }),
      perZone: int(1, 1000, 'nodes in each zone'),
      cpu: { ...cpu, description: 'allocatable CPU of one node, e.g. "8"' },
      memory: { ...memory, description: 'allocatable memory of one node, e.g. "30Gi"' },
      pods: int(1, 1000, 'allocatable pods of one node (the kubelet\'s maxPods, 110 by default)'),
    }, ['zones', 'perZone', 'cpu', 'memory', 'pods']),
  }, ['name']),
  podSecurity: obj({ level: oneOfStrings(['restricted']), version: pattern('^v1\\.[0-9]+$', 'a Kubernetes minor version such as v1.28') }, ['level', 'version']),
  requestScale: num(0.01, 1, 'a factor between 0.01 and 1 applied to every request (limits unchanged)'),
  quota: obj({ requests: ref('resourceAmounts'), limits: ref('resourceAmounts'), pods: int(1, 100000) }, ['requests', 'limits', 'pods']),
  autoscaling: obj({ behavior: obj({ scaleUp: ref('scalingRule'), scaleDown: ref('scalingRule') }) }),
  limitRange: obj({ defaultRequest: ref('resourceAmounts'), default: ref('resourceAmounts'), max: ref('resourceAmounts') }, ['defaultRequest', 'default', 'max']),
  storageClass: dnsLabel,
  ingress: obj({
    className: dnsLabel,
    host: pattern('^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$', 'a fully qualified host name'),
    controllerNamespace: dnsLabel,
    clusterIssuer: dnsLabel,
    hstsMaxAgeSeconds: int(0, 63072000, 'seconds; the HSTS max-age the ingress-nginx controller must send (its ConfigMap hsts-max-age), HSTS is not set on the Ingress'),
    rateLimitRps: int(1, 100000),
  }, ['className', 'host', 'controllerNamespace', 'clusterIssuer', 'hstsMaxAgeSeconds', 'rateLimitRps']),
  secretStore: obj({
    name: dnsLabel,
    provider: { type: 'object', minProperties: 1, maxProperties: 1, description: 'one External Secrets provider block, e.g. {aws: {service: SecretsManager, region: us-east-1}}' },
    refreshInterval: duration,
  }, ['name', 'provider']),
  availability: obj({
    spread: oneOfStrings(['none', 'zones', 'zones-and-nodes']),
    maxSurge: { oneOf: [int(0), pattern('^[0-9]+%$', 'a percentage such as "25%"')] },
    maxUnavailable: { oneOf: [int(0), pattern('^[0-9]+%$', 'a percentage such as "25%"')] },
    terminationGracePeriodSeconds: int(0, 3600),
    preStopSeconds: int(0, 600),
    zoneSpread: obj({
      whenUnsatisfiable: oneOfStrings(['DoNotSchedule', 'ScheduleAnyway'], 'what the zone spread does when pods cannot spread evenly'),
      reason: str('why this environment chose it'),
    }, ['whenUnsatisfiable', 'reason']),
  }, ['spread', 'maxSurge', 'maxUnavailable', 'terminationGracePeriodSeconds', 'preStopSeconds']),
  priorityClasses: mapOf(ref('priorityClass'), 'PriorityClasses services may refer to with `priority`'),
  backups: arr(ref('backup')),
  delivery: obj({
    repoURL: str('the Git repository Argo CD reads dist/ from'),
    revision: str(),
    path: str(),
    server: str('the Argo CD destination server URL'),
    sync: oneOfStrings(['automated', 'manual']),
  }, ['repoURL', 'revision', 'server', 'sync']),
  monitoring: obj({
    namespace: dnsLabel,
    selectorLabels: labels('labels the Prometheus instance selects ServiceMonitors and PrometheusRules by, written onto them as they are'),
    prometheusPodSelector: { ...labels('labels of the Prometheus pods (in monitoring.namespace) that may scrape the metrics ports'), minProperties: 1 },
    scrapeInterval: duration,
    runbookUrlPattern: pattern('^https://.*\\{alert\\}', 'an https URL containing {alert}'),
    grafana: obj({ dashboardLabel: labelKey, dashboardLabelValue: labelValue, folder: text(DESCRIPTION_MAX) }, ['dashboardLabel', 'dashboardLabelValue']),
    alerting: obj({
      pagerduty: obj({ remoteKey: str(), severities: arr(severity, { minItems: 1 }) }, ['remoteKey', 'severities']),
      slack: obj({ remoteKey: str(), channel: str(), severities: arr(severity, { minItems: 1 }) }, ['remoteKey', 'channel', 'severities']),
    }),
    targetDownSeverity: oneOfStrings(['critical', 'warning']),
    thresholds: ref('standardThresholds'),
    prometheusUrl: pattern('^https?://[^\\s/]+(:[0-9]+)?(/\\S*)?$', 'the Prometheus HTTP API the blue/green analysis queries, e.g. http://prometheus-operated.monitoring.svc:9090'),
  }, ['namespace', 'selectorLabels', 'scrapeInterval', 'runbookUrlPattern', 'grafana', 'targetDownSeverity', 'thresholds']),
  featureFlags: mapOf(ref('featureFlag'), 'feature flags by name'),
  externals: mapOf(ref('externalPeer'), 'peers outside the cluster, by name'),
  services: mapOf(ref('service'), 'the services of the platform, by name', {
    pattern: DNS1035_LABEL, maxLength: 63,
    description: 'DNS-1035 labels (each names a Kubernetes Service): lower-case letters, digits and "-", starting with a letter, at most 63 characters',
  }),
};

const targetRequired = [
  'tier', 'platform', 'namespace', 'cluster', 'podSecurity', 'quota', 'limitRange', 'storageClass', 'ingress',
  'secretStore', 'availability', 'delivery', 'monitoring', 'services',
];

/** The schema of one merged target. */
export const targetSchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://trading.example.com/schemas/environment.json',
  title: 'Trading platform environment',
  ...obj(targetProperties, targetRequired),
  definitions,
};

/**
 * The schema of one file in environments/: the target schema with nothing required (a file may
 * set only what it changes) and, for environment files, a `regions` map of overrides.
 */
export function layerSchema(): Schema {
  const stripped = stripRequired(targetSchema) as Schema;
  const properties = { ...(stripped.properties as Record<string, Schema>) };
  const regionProperties = { ...properties };
  delete regionProperties.tier;
  delete regionProperties.$schema;
  properties.regions = mapOf(obj(regionProperties), 'one deployment target per region, each overriding the environment');
  return { ...stripped, $id: 'https://trading.example.com/schemas/environment-file.json', title: 'Trading platform environment file', properties };
}

function stripRequired(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripRequired);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'required' && Array.isArray(inner)) continue;
    // keep the discriminating `if` of hpaMetric and the oneOf branches intact: they need `required`
    out[key] = (key === 'if' || key === 'then' || key === 'oneOf') ? inner : stripRequired(inner);
  }
  return out;
}
