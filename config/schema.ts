/**
 * The one definition of the files in `environments/`: TypeBox schemas that are at once the JSON
 * Schema (draft-07) ajv validates with and, through `Static<>`, the TypeScript types of
 * config/types.ts. A field is added here, once; its TSDoc comment is the documentation in code,
 * its `description` what editors show.
 *
 * `targetSchema` describes one merged target (defaults + environment + region) and says what is
 * required (`opt()` marks what is not); `layerSchema()` derives from it the schema of a single
 * file, where everything is optional but unknown keys are still errors. `npm run schema`
 * publishes the layer schema as `environments/schema.json` for editors
 * (`# yaml-language-server: $schema=./schema.json`). The helpers below write the keys in the
 * order that file has always had.
 */

import {
  ArrayOptions,
  ObjectOptions,
  Static,
  TArray,
  TObject,
  TOptional,
  TProperties,
  TReadonly,
  TSchema,
  Type,
} from '@sinclair/typebox';
import { CRON_RULE } from '../core/cron';
import { GO_DURATION, GO_DURATION_RULE } from '../core/go-duration';
import { REASON_ALLOWED, REASON_PATTERN } from '../core/reason';
import {
  CONFIG_MAP_KEY,
  DNS1035_LABEL,
  LABEL_KEY,
  LABEL_KEY_RULE,
  LABEL_VALUE,
  LABEL_VALUE_RULE,
} from '../core/k8s-names';

type Schema = Record<string, unknown>;

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const patterns = {
  dnsLabel: DNS_LABEL,
  cpu: '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$',
  memory: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$',
  /** A Prometheus duration (alert `for`, windows, scrape intervals). */
  duration: '^([0-9]+(ms|s|m|h|d|w|y))+$',
  /** A Go duration (Velero's backup ttl): no d, w or y. */
  goDuration: GO_DURATION,
  cidr: '^(([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$',
  envName: '^[A-Za-z_][A-Za-z0-9_]*$',
  metricName: '^[a-zA-Z_:][a-zA-Z0-9_:]*$',
};

// ---------------------------------------------------------------------------------------------
// Builders: TypeBox types whose JSON is what the schema has always been
// ---------------------------------------------------------------------------------------------

/** Properties of the configuration are readonly in TypeScript (a TypeBox marker; the JSON is unchanged). */
type ReadonlyProperties<P extends TProperties> = { [K in keyof P]: TReadonly<P[K]> };
/** Every property optional (a TypeBox marker that leaves it out of `required`). */
type OptionalProperties<P extends TProperties> = { [K in keyof P]: TOptional<P[K]> };

/** `type` first, then the options in the order given. */
const typeFirst = <T extends TSchema>(schema: T): T => ({ type: schema.type, ...schema });
/** A property that may be left out. */
const opt = Type.Optional;
const optionalAll = <P extends TProperties>(properties: P): OptionalProperties<P> =>
  Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, opt(value)])) as OptionalProperties<P>;

const str = (description?: string) => typeFirst(Type.String(description ? { description } : {}));
const pattern = (p: string, description: string, maxLength?: number) =>
  typeFirst(Type.String({ pattern: p, description, ...(maxLength !== undefined ? { maxLength } : {}) }));
const int = (minimum: number, maximum?: number, description?: string) =>
  typeFirst(
    Type.Integer({
      minimum,
      ...(maximum !== undefined ? { maximum } : {}),
      ...(description ? { description } : {}),
    }),
  );
const num = (minimum: number, maximum: number, description: string) =>
  typeFirst(Type.Number({ minimum, maximum, description }));
const bool = (description: string) => typeFirst(Type.Boolean({ description }));
function arr<T extends TSchema>(items: T, extra: ArrayOptions = {}): TArray<T> {
  const { type, items: i, ...rest } = Type.Array(items, extra);
  return { type, items: i, ...rest } as TArray<T>;
}
/** An object that refuses unknown keys; every property is required unless wrapped in `opt()`. */
function obj<P extends TProperties>(properties: P, extra: ObjectOptions = {}): TObject<ReadonlyProperties<P>> {
  const readonly = Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key, Type.Readonly(value)]),
  ) as ReadonlyProperties<P>;
  const { type, properties: p, required, ...rest } = Type.Object(readonly, { additionalProperties: false, ...extra });
  return { type, additionalProperties: false, properties: p, ...(required ? { required } : {}), ...rest } as TObject<
    ReadonlyProperties<P>
  >;
}
/** One of the given strings (a JSON Schema `enum`; a union of string literals in TypeScript). */
const oneOfStrings = <const V extends readonly string[]>(values: V, description?: string) =>
  Type.Unsafe<V[number]>({ type: 'string', enum: values, ...(description ? { description } : {}) });
/** Exactly one of the given schemas (JSON Schema `oneOf`; TypeBox's `Union` writes `anyOf`). */
const oneOf = <T extends TSchema[]>(schemas: [...T], description?: string) =>
  Type.Unsafe<Static<T[number]>>({ oneOf: schemas, ...(description ? { description } : {}) });
/** A reference to `definitions.<name>`, typed as the definition it points at (a wrong name fails ajv's compile in the build). */
const ref = <T extends TSchema>(name: string, _definition: T) =>
  Type.Unsafe<Static<T>>({ $ref: `#/definitions/${name}` });
/** A map from names (`names`, DNS labels unless given) to `value`. */
const mapOf = <T extends TSchema>(
  value: T,
  description: string,
  names: Schema = { pattern: DNS_LABEL, maxLength: 63 },
) =>
  Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    description,
    propertyNames: names,
    additionalProperties: value,
  });
/** String values under names that match `names` (environment variables, ConfigMap keys). */
const stringsBy = (names: Schema) =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    propertyNames: names,
    additionalProperties: { type: 'string' },
  });
/** Prose at most `max` characters long: it is written into objects the API server limits in size. */
const text = (max: number, description?: string) =>
  typeFirst(Type.String({ ...(description ? { description } : {}), maxLength: max }));
/** The longest description of a service, peer, flag or priority class (written into dashboards and ConfigMaps). */
const DESCRIPTION_MAX = 1024;
/** The longest alert text (summary, description, reason): annotations of an object are limited to 256 KiB together. */
const ALERT_TEXT_MAX = 4096;
const labelKey = pattern(LABEL_KEY, LABEL_KEY_RULE);
const labelValue = pattern(LABEL_VALUE, LABEL_VALUE_RULE);
/** Labels written onto objects as they are (keys and values as the API server accepts them). */
const labels = (description: string, extra: Schema = {}) =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    propertyNames: labelKey,
    additionalProperties: labelValue,
    ...extra,
  });

/**
 * An object told apart by its `type`: `{type: <key>, ...branches[key]}` for one key of `branches`
 * (JSON Schema if/then on the `type`, so that ajv reports the errors of the branch the file chose).
 */
function discriminated<B extends Record<string, TProperties>>(branches: B, description: string) {
  const keys = Object.keys(branches);
  return Type.Unsafe<
    { [K in Extract<keyof B, string>]: { readonly type: K } & Static<TObject<ReadonlyProperties<B[K]>>> }[Extract<
      keyof B,
      string
    >]
  >({
    type: 'object',
    required: ['type'],
    properties: { type: oneOfStrings(keys, description) },
    allOf: keys.map((key) => ({
      if: { properties: { type: { const: key } } },
      then: obj({ type: str(), ...branches[key] }),
    })),
  });
}

const DNS_LABEL_RULE =
  'a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';
const dnsLabel = (description = DNS_LABEL_RULE, maxLength = 63) => pattern(DNS_LABEL, description, maxLength);
const cpu = (description = 'a CPU quantity such as "250m", "1" or "1.5"') => pattern(patterns.cpu, description);
const memory = (description = 'a memory quantity such as "512Mi", "2Gi" or "1G"') =>
  pattern(patterns.memory, description);
const duration = pattern(patterns.duration, 'a duration such as "30s", "5m", "1h" or "1h30m"');
const cidr = pattern(patterns.cidr, 'a CIDR such as "203.0.113.0/24"');
const portNumber = int(1, 65535, 'a port number, 1-65535');
/** A port by its number or by the name it has in `ports`. */
const portRef = (
  description = 'a port name declared in ports (lower-case letters, digits and "-", at most 15 characters) or a port number (1-65535)',
) => oneOf([portNumber, dnsLabel('a port name declared in ports', 15)], description);
const severity = oneOfStrings(['critical', 'warning', 'info']);
const image = () =>
  pattern(
    '^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
    'an image reference "registry/repo:tag", "registry/repo@sha256:<64 hex>" or both',
  );
const absolutePath = (description: string) => pattern('^/', description);
/** What an environment variable name is (patterns.envName), for messages and editors. */
const ENV_NAME_RULE = 'environment variable names: letters, digits and "_", not starting with a digit (e.g. LOG_LEVEL)';
const envVars = () => stringsBy({ pattern: patterns.envName, description: ENV_NAME_RULE });
/** A string that is neither empty nor holds a blank: a key in a secret manager, a Slack channel. */
const word = (description: string) => pattern('^\\S+$', `${description} (not empty, no spaces)`);
/** Why an exception or a number is what it is: words, never blank (core/reason.ts). */
const reason = (what: string, maxLength?: number) => pattern(REASON_PATTERN, `${REASON_ALLOWED} (${what})`, maxLength);

// ---------------------------------------------------------------------------------------------
// definitions
// ---------------------------------------------------------------------------------------------

/** A Kubernetes quantity pair, e.g. `{ cpu: '250m', memory: '512Mi' }`. */
const resourceAmounts = obj({
  cpu: cpu(),
  memory: memory(),
  /**
   * Local ephemeral storage (writable layers, logs, emptyDir such as /tmp), a memory-style quantity.
   * @default limitRange.defaultRequest / limitRange.default, else 256Mi requested, 1Gi limit
   */
  ephemeralStorage: opt(
    pattern(patterns.memory, 'local ephemeral storage (logs, /tmp), a quantity such as "256Mi" or "1Gi"'),
  ),
});
const partialResourceAmounts = obj(optionalAll({ cpu: cpu(), memory: memory() }));
const resources = obj({
  requests: ref('resourceAmounts', resourceAmounts),
  limits: ref('resourceAmounts', resourceAmounts),
});

const port = obj({
  /** IANA_SVC_NAME, e.g. `http`, `metrics`, `fix`. */
  name: dnsLabel('a port name (IANA_SVC_NAME): at most 15 characters, lower-case letters, digits and "-"', 15),
  port: portNumber,
  /** @default 'TCP' */
  protocol: opt(oneOfStrings(['TCP', 'UDP'])),
});

const probe = obj(
  {
    /** HTTP GET on `path` at the named or numbered port. */
    http: opt(obj({ path: absolutePath('an absolute URL path'), port: portRef() })),
    /** TCP connect to the named or numbered port. */
    tcp: opt(obj({ port: portRef() })),
    /** gRPC health check on a numbered port. */
    grpc: opt(obj({ port: portNumber })),
    exec: opt(obj({ command: arr(str(), { minItems: 1 }) })),
    /** @default 0 */
    initialDelaySeconds: opt(int(0, 3600)),
    /** @default 10 */
    periodSeconds: opt(int(1, 3600)),
    /** @default 1 */
    timeoutSeconds: opt(int(1, 3600)),
    /** @default 3 */
    failureThreshold: opt(int(1, 100)),
  },
  { minProperties: 1 },
);
const probes = () =>
  obj(optionalAll({ readiness: ref('probe', probe), liveness: ref('probe', probe), startup: ref('probe', probe) }));

/** A number above zero: a target value the autoscaler divides by. */
const positive = (description: string) => typeFirst(Type.Number({ exclusiveMinimum: 0, description }));

const hpaMetric = discriminated(
  {
    resource: {
      resource: oneOfStrings(['cpu', 'memory']),
      targetUtilization: int(1, 100, 'average utilisation of requests, in percent'),
    },
    /**
     * A trading metric from the target's Prometheus (`monitoring.prometheusUrl`): a service with
     * one is scaled by a KEDA ScaledObject, whose HPA gets its resource metrics too. The query's
     * selectors are scoped to the target's namespace and the service's job (a matcher the query
     * sets itself wins) and must return one value. Exactly one of targetAverageValue (the value
     * divided by the pods, e.g. order queue depth per pod) and targetValue (the value itself,
     * e.g. quote latency).
     */
    prometheus: {
      /** Names the trigger in the ScaledObject and the target README, e.g. `order-queue-depth`. */
      name: dnsLabel('a name for the trigger, e.g. order-queue-depth (a DNS-1123 label)'),
      query: str('a PromQL query that returns one value, e.g. sum(trading_order_queue_depth)'),
      targetAverageValue: opt(
        positive('the value per pod to scale to (KEDA metricType AverageValue), e.g. 50 orders queued per pod'),
      ),
      targetValue: opt(
        positive('the value to hold the query at (KEDA metricType Value), e.g. 0.05 for a 50ms quote latency'),
      ),
    },
    /** Refused (config/autoscaling-rules.ts): nothing serves custom metrics to the HPA; use `prometheus`. */
    pods: {
      metric: str('refused: no metrics adapter serves it; use {type: prometheus, query, targetAverageValue}'),
      targetAverageValue: str('a quantity such as "100" or "500m"'),
    },
    /** Refused (config/autoscaling-rules.ts): nothing serves external metrics to the HPA; use `prometheus`. */
    external: {
      metric: str('refused: no metrics adapter serves it; use {type: prometheus, query, targetValue}'),
      selector: opt(Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } })),
      targetValue: opt(str()),
      targetAverageValue: opt(str()),
    },
  },
  'the metric source: resource (CPU or memory utilisation) or prometheus (a query, through KEDA)',
);

const scalingRule = obj({
  /** Seconds of history the autoscaler considers before acting. */
  stabilizationWindowSeconds: int(0, 3600),
  /** At most this many percent of current replicas per period. */
  percent: opt(int(1, 1000)),
  /** At most this many pods per period. */
  pods: opt(int(1, 1000)),
  periodSeconds: int(1, 1800),
});
const scalingBehavior = () =>
  obj(optionalAll({ scaleUp: ref('scalingRule', scalingRule), scaleDown: ref('scalingRule', scalingRule) }));

/** A flow from this service to another service or to an external peer. */
const dependency = oneOf(
  [
    obj({ service: dnsLabel(), port: portRef() }),
    obj({ external: dnsLabel(), ports: opt(arr(portNumber, { minItems: 1 })) }),
  ],
  '{service, port} for a service of this platform or {external, ports?} for a peer declared under externals',
);

/** One rule of access to the Kubernetes API. No wildcards, no Secrets. */
const apiAccess = obj({
  /** '' for the core group. */
  apiGroup: str('API group, "" for the core group'),
  resources: arr(str(), { minItems: 1 }),
  // typed string[], not the union: checks compare them with the verbs of rendered Roles (pipeline/api-access-policy.ts)
  verbs: arr(
    oneOfStrings<readonly string[]>([
      'get',
      'list',
      'watch',
      'create',
      'update',
      'patch',
      'delete',
      'deletecollection',
      'escalate',
      'bind',
      'impersonate',
      'approve',
      'sign',
    ]),
    { minItems: 1 },
  ),
  /** Restricts the rule to these object names. */
  resourceNames: opt(arr(str(), { minItems: 1 })),
  /** @default 'namespace' (a Role); 'cluster' makes a ClusterRole and must be declared. */
  scope: opt(oneOfStrings(['namespace', 'cluster'])),
  /**
   * Why the rule needs a grant that can take over the cluster (core/rbac-risks.ts: exec, bind,
   * impersonate, ...). Required for such grants, which are refused in production even with it.
   */
  reason: opt(
    reason(
      'why the service needs a grant that can take over the cluster (core/rbac-risks.ts); such grants are refused in production',
    ),
  ),
});

/** A secret the service reads, synced from the cloud secret manager by an ExternalSecret. */
const secretRef = obj({
  /** Environment variable the value is exposed as. */
  env: pattern(patterns.envName, 'an environment variable name: letters, digits and "_", not starting with a digit'),
  /** Key in the secret manager, e.g. `trading/prod/database-url`. */
  remoteKey: word('the key in the cloud secret manager, e.g. trading/prod/database-url'),
  /** Property inside a JSON secret. */
  property: opt(str()),
});

const customAlert = obj({
  alert: pattern('^[A-Z][A-Za-z0-9]*$', 'an alert name in UpperCamelCase'),
  expr: str('a PromQL expression'),
  for: duration,
  severity,
  summary: text(
    ALERT_TEXT_MAX,
    'a Prometheus template: {{ $value }}, {{ $labels.<name> }}; {{ "{{" }} for literal braces',
  ),
  description: text(
    ALERT_TEXT_MAX,
    'a Prometheus template: {{ $value }}, {{ $labels.<name> }}; {{ "{{" }} for literal braces',
  ),
  /** Why this threshold. */
  reason: reason('why this threshold', ALERT_TEXT_MAX),
});

/**
 * A helper container in every pod of a service (an exporter, a proxy). It gets the same restricted
 * security context and read-only root filesystem (with its own /tmp) as the service's container,
 * its own resources, and serves some of the service's ports.
 */
const sidecar = obj({
  /** The container name; unique in the pod and different from the service's name. */
  name: dnsLabel('the container name, unique in the pod'),
  /** Pinned image reference, as for the service. */
  image: image(),
  command: opt(arr(str())),
  args: opt(arr(str())),
  /** Names (or numbers) of the service's `ports` this container serves; they leave the main container. @default none */
  ports: opt(
    arr(portRef(), {
      uniqueItems: true,
      description: "names (or numbers) of the service's ports this container serves",
    }),
  ),
  resources: ref('resources', resources),
  /** Plain, non-secret environment variables. */
  env: opt(envVars()),
  /** @default none (required from staging on, as for the service) */
  probes: opt(probes()),
});

/**
 * The thresholds of the standard alerts every service gets (PLATFORM.md, "Monitoring"): complete
 * in the merged target (`monitoring.thresholds`, overridable per environment), any subset, key by
 * key, in a service's `monitoring.thresholds`. Ratios are 0-1, durations Prometheus durations.
 */
const ratio = (what: string) => num(0, 1, `a ratio between 0 and 1 (${what})`);
const thresholdBlocks = {
  targetDown: {
    /** How long the condition must hold before the alert fires (a Prometheus duration). */
    for: duration,
  },
  /** 5xx share of HTTP requests over `window`: warning and critical ratios. */
  httpErrors: { warning: ratio('0.01 is 1%'), critical: ratio('0.05 is 5%'), window: duration, for: duration },
  /** p95 (or mean) latency over the service's own threshold, measured over `window`. */
  latency: { window: duration, for: duration },
  /** More than `restarts` container restarts within `window` (the window is the persistence: no `for`). */
  crashLooping: { restarts: int(0, 1000, 'restarts within the window'), window: duration },
  /** Working set above `ratio` of the memory limit. */
  memory: { ratio: ratio('of the memory limit, 0.8 is 80%'), for: duration },
  /** Share of CFS periods throttled over `window` above `ratio`. */
  cpuThrottling: { ratio: ratio('of CFS periods throttled, 0.25 is 25%'), window: duration, for: duration },
  /** The HPA at its maximum replicas. */
  hpaAtMax: { for: duration },
};
type ThresholdBlocks = typeof thresholdBlocks;
const thresholdReason = {
  /** Why the numbers are what they are; written to the alert's `threshold_reason` annotation. */
  reason: reason("why the numbers are what they are; written to the alert's threshold_reason annotation"),
};
type WithReason<P extends TProperties> = P & typeof thresholdReason;
const thresholdBlock = <P extends TProperties>(properties: P): WithReason<P> => ({ ...properties, ...thresholdReason });
/** A block as the merged target has it: every key and the reason. */
type Complete<P> = P extends TProperties ? TObject<ReadonlyProperties<WithReason<P>>> : never;
/** A block as a service overrides it: any of its keys. */
type Overrides<P> = P extends TProperties
  ? TOptional<TObject<ReadonlyProperties<OptionalProperties<WithReason<P>>>>>
  : never;
const blocks = <T extends TProperties>(make: (block: TProperties) => TSchema) =>
  Object.fromEntries(Object.entries(thresholdBlocks).map(([key, block]) => [key, make(block)])) as T;
const standardThresholds = obj(
  blocks<{ [K in keyof ThresholdBlocks]: Complete<ThresholdBlocks[K]> }>((block) => obj(thresholdBlock(block))),
);
const thresholdOverrides = obj(
  blocks<{ [K in keyof ThresholdBlocks]: Overrides<ThresholdBlocks[K]> }>((block) =>
    opt(obj(optionalAll(thresholdBlock(block)))),
  ),
);

/** The services of the platform. */
const service = obj({
  description: text(DESCRIPTION_MAX, `one line on what the service does, at most ${DESCRIPTION_MAX} characters`),
  /** `app.kubernetes.io/component`. */
  component: dnsLabel(),
  /** Image reference: `repo:tag`, `repo@sha256:…` or `repo:tag@sha256:…`. */
  image: image(),
  /** @default 'deployment' */
  workload: opt(oneOfStrings(['deployment', 'statefulset'])),
  ports: arr(ref('port', port), { minItems: 1 }),
  /** @default 'cluster' */
  expose: opt(oneOfStrings(['public', 'cluster'])),
  /** Path prefix on the public host. @default '/' */
  ingressPath: opt(absolutePath('an absolute URL path')),
  /** A number for fixed replicas, `{min, max}` for an HPA (KEDA's when a metric is a prometheus query). */
  replicas: oneOf(
    [
      int(0, 1000, 'a fixed number of replicas, 0 or more'),
      obj({ min: int(0, 1000, 'minimum replicas, 0 or more'), max: int(1, 1000, 'maximum replicas, 1 or more') }),
    ],
    'a fixed number of replicas (a whole number, 0 or more), or {min, max} for an HPA with 0 <= min <= max',
  ),
  autoscaling: opt(
    obj({
      metrics: arr(ref('hpaMetric', hpaMetric), { minItems: 1 }),
      /** @default the environment's `autoscaling.behavior`, per direction */
      behavior: opt(scalingBehavior()),
    }),
  ),
  vpa: opt(
    obj(
      optionalAll({
        /** @default 'Off' where an HPA exists, otherwise 'Initial' */
        updateMode: oneOfStrings(['Off', 'Initial', 'Recreate', 'Auto']),
        /** @default ['cpu', 'memory'] minus whatever an HPA scales on */
        controlledResources: arr(oneOfStrings(['cpu', 'memory']), { uniqueItems: true }),
        minAllowed: ref('partialResourceAmounts', partialResourceAmounts),
        maxAllowed: ref('partialResourceAmounts', partialResourceAmounts),
      }),
    ),
  ),
  resources: ref('resources', resources),
  /** 'guaranteed' demands requests = limits and whole CPUs; a latency-critical service (never on spot). */
  qos: opt(oneOfStrings(['guaranteed', 'burstable'])),
  /**
   * Exclusive cores for the service's container (the kubelet's static CPU manager policy): the pods
   * are Guaranteed QoS with whole CPUs (requests = limits in every container) and select the nodes
   * of `cluster.cpuPinning.nodeSelector`. A pinned service is latency-critical. @default false
   */
  cpuPinning: opt(
    bool(
      'exclusive cores for the service (static CPU manager policy): Guaranteed QoS with whole CPUs, on the nodes of cluster.cpuPinning.nodeSelector',
    ),
  ),
  /**
   * The capacity the pods run on: `spot` tolerates the spot pool's taint and prefers its nodes (they
   * fall back to on-demand nodes when the pool is gone); refused for latency-critical (Guaranteed QoS,
   * pinned) and stateful services. @default 'on-demand'
   */
  placement: opt(
    oneOfStrings(
      ['on-demand', 'spot'],
      'on-demand, or spot: tolerate the spot pool (cluster.spot) and prefer it, falling back to on-demand nodes; not for latency-critical or stateful services',
    ),
  ),
  /** Key into `priorityClasses`. */
  priority: opt(dnsLabel()),
  probes: probes(),
  /** Plain, non-secret environment variables. */
  env: opt(envVars()),
  secrets: opt(arr(ref('secretRef', secretRef))),
  /**
   * The credential the service demands of its clients (a Redis password): an ExternalSecret gives it,
   * as the env variable `auth.env`, to the service's own containers (sidecars included) and to every
   * service that `dependsOn` it. The value never reaches dist/. @default none: clients need no credential
   */
  auth: opt(ref('secretRef', secretRef)),
  /** Non-secret configuration, rendered as a ConfigMap mounted at /etc/<service>. */
  config: opt(
    Type.Unsafe<Record<string, string>>({
      type: 'object',
      propertyNames: {
        pattern: CONFIG_MAP_KEY,
        maxLength: 253,
        description: 'ConfigMap keys: at most 253 letters, digits, "-", "_" and "."',
      },
      additionalProperties: { type: 'string' },
    }),
  ),
  dependsOn: opt(arr(ref('dependency', dependency))),
  api: opt(arr(ref('apiAccess', apiAccess))),
  storage: opt(obj({ size: memory(), mountPath: absolutePath('an absolute path') })),
  /**
   * How the replicas of a StatefulSet form a group (consensus, clustering): for a group that needs
   * a quorum before any member is ready (Raft, Paxos, gossip clusters). Without it, replicas start
   * one by one and appear in DNS only once ready, which such a group can never reach.
   */
  peers: opt(
    obj(
      optionalAll({
        /** Start and scale all replicas at once (podManagementPolicy Parallel). @default false (OrderedReady) */
        startTogether: bool(
          'start and scale all replicas at once (podManagementPolicy Parallel) instead of one by one',
        ),
        /**
         * Publish every replica in the headless Service's DNS from its start, before it is ready
         * (publishNotReadyAddresses), so members find each other to form the group. @default false
         */
        discoverBeforeReady: bool(
          "publish every replica in the headless Service's DNS before it is ready (publishNotReadyAddresses), so a group can form its quorum",
        ),
        /**
         * The port (name or number) members talk to each other on. NetworkPolicies open it between the
         * service's own pods, and only it. @default none: the replicas never talk to each other
         */
        port: portRef(
          'the port (a name declared in ports, or its number) the replicas talk to each other on; NetworkPolicies open it between them',
        ),
      }),
    ),
  ),
  /**
   * High availability of a stateful cache (Redis) per environment, instead of the single instance its
   * other fields describe. `sentinel`: the StatefulSet runs `replicas` (at least 3) pods, one per zone,
   * each a redis server (the first pod the initial master, the others its replicas) beside a Sentinel
   * sidecar that watches the master and fails over with `quorum` votes; callers reach Sentinel through
   * the `<service>-sentinel` Service and ask it for the master (constructs/sentinel-replication.ts).
   * `managed`: the service is not run in the cluster in this environment; the external peer `external`
   * (a managed cache such as ElastiCache or Memorystore) stands in for it in every `dependsOn`.
   * @default none: the service runs as its other fields say
   */
  replication: opt(
    obj({
      mode: oneOfStrings(
        ['sentinel', 'managed'],
        'sentinel: replicas with Sentinel failover in the cluster; managed: an external peer stands in for the service',
      ),
      ...optionalAll({
        /** Sentinels that must agree a master is down before a failover. @default a majority of the replicas */
        quorum: int(1, 99, 'Sentinels that must agree the master is down; more than half of the replicas'),
        /** The name of the master set clients ask Sentinel for. @default the service's name */
        masterName: dnsLabel('the name of the master set clients ask Sentinel for'),
        /** The port Sentinel listens on. @default 26379 */
        sentinelPort: int(1024, 65535, "Sentinel's port, 26379 by convention"),
        /** Seconds without an answer before a Sentinel deems the master down. @default 5 */
        downAfterSeconds: int(1, 600, 'seconds without an answer before a Sentinel deems the master down'),
        /** Sentinel's requests and limits. @default 50m/64Mi requested, 200m/128Mi limit */
        sentinelResources: ref('resources', resources),
        /** managed: the external peer (under `externals`) that stands in for the service. */
        external: dnsLabel('the external peer (a key of externals) that stands in for the service'),
      }),
    }),
  ),
  release: opt(
    obj({
      /** @default 'rolling' */
      strategy: oneOfStrings(['rolling', 'blueGreen']),
      blueGreen: opt(
        obj(
          optionalAll({
            /** @default 30 */
            scaleDownDelaySeconds: int(0, 86400),
            /** Success-rate floor (0–1) the analysis requires before promotion. @default 0.99 */
            successRate: num(0, 1, 'a ratio between 0 and 1'),
            /** p99 latency ceiling in seconds the analysis requires before promotion. */
            latencyP99Seconds: num(0, 3600, 'seconds'),
          }),
        ),
      ),
    }),
  ),
  /**
   * How pods of this service spread when they cannot spread evenly, in production only: staging and
   * development always spread best-effort (ScheduleAnyway). @default 'ScheduleAnyway'
   */
  spreadPolicy: opt(
    oneOfStrings(
      ['DoNotSchedule', 'ScheduleAnyway'],
      'what production does when pods cannot spread evenly; staging and development always spread best-effort (ScheduleAnyway)',
    ),
  ),
  /**
   * Mount the feature-flags ConfigMap at /etc/feature-flags although the service owns no flag (it
   * reads flags of other services). A flag's owner mounts it anyway. @default false
   */
  featureFlags: opt(bool('mount the feature-flags ConfigMap at /etc/feature-flags')),
  monitoring: opt(
    obj(
      optionalAll({
        /** Scrape interval. @default monitoring.scrapeInterval */
        interval: duration,
        /** Whether the service serves HTTP (`http_requests_total`, `http_request_duration_seconds`). @default true */
        http: bool('the service serves http_requests_total and http_request_duration_seconds'),
        /**
         * Availability SLO in percent (e.g. 99.9), alerted by multi-window multi-burn-rate rules. Its
         * errors: 5xx responses of an HTTP service; else `metrics.errors` out of `metrics.requests`
         * when both are set; else orders with `status="error"` out of `trading_orders_total`.
         */
        slo: obj({ availability: num(50, 99.9999, 'availability target in percent, e.g. 99.9') }),
        /** This service's overrides of `monitoring.thresholds`, key by key. @default none */
        thresholds: ref('thresholdOverrides', thresholdOverrides),
        /**
         * Rate, errors and duration of a service that does not serve HTTP, from metrics it (or its
         * exporter sidecar) exposes; they give its dashboard the RED panels and its latency alert.
         * @default none: the dashboard shows saturation only
         */
        metrics: obj(
          optionalAll({
            /** A counter of requests (commands, messages) handled. */
            requests: pattern(
              patterns.metricName,
              'a counter of requests handled, e.g. redis_commands_processed_total',
            ),
            /** A counter of failed or rejected requests. */
            errors: pattern(patterns.metricName, 'a counter of failed or rejected requests'),
            /**
             * Duration: a histogram (`histogram`: the base name, without `_bucket`) for quantiles, or a
             * counter of seconds spent (`sum`) divided by a counter of requests (`count`, default `requests`).
             */
            duration: oneOf(
              [
                obj({ histogram: pattern(patterns.metricName, "a histogram's base name, without _bucket") }),
                obj({
                  sum: pattern(patterns.metricName, 'a counter of seconds spent'),
                  count: opt(pattern(patterns.metricName, 'a counter of requests; default: requests')),
                }),
              ],
              '{histogram} for quantiles, or {sum, count?} for the mean',
            ),
          }),
        ),
        /** The alerts the service opts into; thresholds are data, the rules are built by constructs. */
        alerts: obj(
          optionalAll({
            /**
             * p95 latency over this many seconds for `thresholds.latency.for`: of
             * `http_request_duration_seconds`, or of `metrics.duration.histogram` for a non-HTTP service.
             */
            latencyP95Seconds: num(0, 3600, 'seconds'),
            /** Mean latency (`metrics.duration.sum` / `count`) over this many seconds, for a non-HTTP service without a histogram. */
            latencyMeanSeconds: num(0, 3600, 'seconds'),
            /** Order latency quantile alert (histogram `trading_order_latency_seconds`). */
            orderLatency: obj({
              quantile: num(0, 1, 'a quantile such as 0.99'),
              thresholdSeconds: num(0, 3600, 'seconds'),
              for: duration,
            }),
            /** Order rejection ratio over this for 5m (`trading_orders_total{status}`). */
            orderRejectionRatio: num(0, 1, 'a ratio between 0 and 1'),
            /** Market data older than this many seconds (`marketdata_last_update_timestamp_seconds`). */
            marketDataStaleSeconds: num(0, 86400, 'seconds'),
            /** Drawdown ratio above this (`trading_pnl_drawdown_ratio`). */
            drawdownRatio: num(0, 1, 'a ratio between 0 and 1'),
            /** Extra, service-specific rules (e.g. consensus failures). */
            custom: arr(ref('customAlert', customAlert)),
          }),
        ),
      }),
    ),
  ),
  /**
   * This service's part in the environment's `tracing`: leave it out (a service without an
   * OpenTelemetry SDK, such as redis) or sample its root spans at another ratio.
   * @default traced at `tracing.samplingRatio` whenever the environment traces
   */
  tracing: opt(
    obj(
      optionalAll({
        /** @default true: the service is traced whenever the environment is */
        enabled: bool(
          'whether the service gets the OTEL_* variables and egress to the collector when the environment traces',
        ),
        /** The ratio of root spans this service samples, instead of `tracing.samplingRatio`. */
        samplingRatio: num(0, 1, 'a ratio between 0 and 1 of root spans sampled (0.05 is 5%)'),
      }),
    ),
  ),
  /** Command and args override. */
  command: opt(arr(str())),
  args: opt(arr(str())),
  /** UID, GID and fsGroup, 10000 or more. @default 10001 */
  runAsUser: opt(
    int(10000, 2147483647, 'a UID (and GID, fsGroup) of 10000 or more, outside the system users of images and nodes'),
  ),
  /** Helper containers in every pod of the service. @default none */
  sidecars: opt(arr(ref('sidecar', sidecar))),
});

/** A peer outside the cluster, by name under `externals`. */
const externalPeer = obj({
  description: opt(text(DESCRIPTION_MAX)),
  cidrs: arr(cidr, { minItems: 1 }),
  ports: arr(ref('port', port), { minItems: 1 }),
  /**
   * Why the peer needs blocks that open (nearly) the whole internet (core/cidr.ts, wideCidrs):
   * required when its blocks, or the blocks of every peer a service depends on, are that wide.
   */
  reason: opt(reason('why the peer needs blocks that open (nearly) the whole internet')),
  /** Publish an ExternalName Service for this peer (e.g. a managed database). */
  externalName: opt(str('DNS name published as an ExternalName Service')),
});

const featureFlag = obj({
  description: opt(text(DESCRIPTION_MAX)),
  /** The service that reads the flag: the feature-flags ConfigMap is mounted into its pods. */
  owner: dnsLabel(
    'the service that reads the flag and answers for it; the feature-flags ConfigMap is mounted into its pods',
  ),
  enabled: bool('whether the flag is on'),
  rolloutPercent: int(0, 100, 'a whole percentage, 0-100'),
});

/** A pool of identical nodes over some zones (`cluster.nodes`, `cluster.spot.nodes`). */
const nodePool = obj({
  /** Zones of the pool (`topology.kubernetes.io/zone`). */
  zones: arr(dnsLabel(), {
    minItems: 1,
    uniqueItems: true,
    description: 'the zones of the pool (topology.kubernetes.io/zone), e.g. [us-east-1a, us-east-1b, us-east-1c]',
  }),
  /** Nodes in each zone. */
  perZone: int(1, 1000, 'nodes in each zone'),
  /** Allocatable CPU and memory of one node. */
  cpu: cpu('allocatable CPU of one node, e.g. "8"'),
  memory: memory('allocatable memory of one node, e.g. "30Gi"'),
  /** Allocatable pods of one node. */
  pods: int(1, 1000, "allocatable pods of one node (the kubelet's maxPods, 110 by default)"),
  /**
   * Labels every node of the pool carries besides zone and hostname, e.g. `cpumanager: "true"` on
   * nodes whose kubelet runs the static CPU manager policy. @default none
   */
  labels: opt(
    labels(
      'labels every node of the pool carries besides zone and hostname, e.g. cpumanager: "true" where the kubelet runs the static CPU manager policy',
    ),
  ),
});

const priorityClass = obj({ name: dnsLabel(), value: int(0, 1000000000), description: text(DESCRIPTION_MAX) });

const backup = obj({
  name: dnsLabel(),
  /**
   * When, in UTC: five cron fields or a descriptor, as Velero reads them (robfig/cron's standard
   * parser; config/backup-rules.ts checks each field's values), e.g. `0 2 * * *`.
   */
  // its shape and values are checked by config/backup-rules.ts, whose messages name the field at fault
  schedule: str(CRON_RULE),
  /** Retention, a Go duration (Velero's `ttl`; no d, w or y), e.g. `720h`. */
  ttl: pattern(patterns.goDuration, GO_DURATION_RULE),
  /** Namespaces backed up together with the target namespace, e.g. `kube-system`. @default - the target namespace only */
  extraNamespaces: opt(
    arr(dnsLabel(), {
      uniqueItems: true,
      description:
        'namespaces backed up together with the target namespace (e.g. kube-system for a full system backup)',
    }),
  ),
});

/** The shared parts of the schema, referred to as `#/definitions/<name>`; their order is schema.json's. */
export const definitions = {
  resourceAmounts,
  partialResourceAmounts,
  resources,
  port,
  probe,
  hpaMetric,
  scalingRule,
  dependency,
  apiAccess,
  secretRef,
  customAlert,
  sidecar,
  standardThresholds,
  thresholdOverrides,
  service,
  externalPeer,
  featureFlag,
  nodePool,
  priorityClass,
  backup,
};

// ---------------------------------------------------------------------------------------------
// one target
// ---------------------------------------------------------------------------------------------

const percentOrCount = () => oneOf([int(0), pattern('^[0-9]+%$', 'a percentage such as "25%"')]);

/** Everything one target needs, as the files of environments/ give it once merged. */
export const target = obj({
  $schema: opt(str('the JSON Schema editors use for this file')),
  /** The tier an environment belongs to; policies (probes, digests, spread) depend on it. */
  tier: oneOfStrings(
    ['development', 'staging', 'production'],
    'which policies apply: probes are required from staging, digests in production',
  ),
  platform: obj({ name: dnsLabel(), owner: str('the owning team, shown in annotations') }),
  namespace: dnsLabel(),
  cluster: obj({
    name: dnsLabel(),
    /**
     * The node pool of the target's cluster: synth checks that every pod fits a node and that the
     * pool can spread and hold the quota; the live twin (test/live) creates these nodes.
     */
    nodes: opt(ref('nodePool', nodePool)),
    /**
     * How the cluster's spot (preemptible) pool is labelled and tainted: services with
     * `placement: spot` tolerate the taint and prefer the label; every other pod stays off it.
     * @default label and taint karpenter.sh/capacity-type=spot (taint NoSchedule), no pool in the twin
     */
    spot: opt(
      obj(
        optionalAll({
          /** The label every spot node carries. @default { key: karpenter.sh/capacity-type, value: spot } */
          label: obj({ key: labelKey, value: labelValue }),
          /** The taint every spot node carries. @default the label's key and value, NoSchedule */
          taint: obj({
            key: labelKey,
            value: labelValue,
            effect: oneOfStrings(
              ['NoSchedule', 'NoExecute'],
              'NoSchedule or NoExecute (PreferNoSchedule would let any pod onto spot)',
            ),
          }),
          /**
           * The spot pool's nodes, besides the on-demand pool `nodes`: the live twin creates them
           * (labelled and tainted) and removes them to prove every pod reschedules without them.
           * @default none: the on-demand pool alone
           */
          nodes: ref('nodePool', nodePool),
        }),
      ),
    ),
    /**
     * How pods with `cpuPinning` reach nodes whose kubelet runs `--cpu-manager-policy=static`.
     * @default nodeSelector { cpumanager: "true" }
     */
    cpuPinning: opt(
      obj({
        nodeSelector: labels(
          'labels of the nodes whose kubelet runs the static CPU manager policy; pinned pods select them',
          { minProperties: 1 },
        ),
      }),
    ),
  }),
  podSecurity: obj({
    level: oneOfStrings(['restricted']),
    version: pattern('^v1\\.[0-9]+$', 'a Kubernetes minor version such as v1.28'),
  }),
  /**
   * The Istio service mesh (constructs/mesh.ts): mutual TLS between every pod of the namespace
   * (PeerAuthentication STRICT) and, per service, an AuthorizationPolicy admitting only the
   * identities of its callers in `dependsOn`, on the declared ports. Istio itself (istiod,
   * istio-cni, ztunnel) is installed by its own chart. @default - no mesh
   */
  mesh: opt(
    obj({
      /**
       * `ambient`: ztunnel on every node carries the pods' traffic (HBONE, port 15008); the pods are
       * unchanged, so Pod Security `restricted` holds. `sidecar` is refused: Istio's `istio-init`
       * container needs NET_ADMIN and NET_RAW, which `restricted` forbids. `off`: no mesh (an
       * environment switching off what defaults.yaml switches on).
       */
      mode: oneOfStrings(
        ['ambient', 'sidecar', 'off'],
        'ambient (ztunnel, pods unchanged), sidecar (refused under Pod Security restricted) or off',
      ),
      /** Mutual TLS between the pods: STRICT refuses every plaintext connection. */
      mtls: oneOfStrings(['STRICT'], 'STRICT: every connection to a pod of the namespace must be mutual TLS'),
      /** The mesh's trust domain, the first part of every SPIFFE identity. @default 'cluster.local' */
      trustDomain: opt(
        pattern(
          '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
          'a DNS name such as "cluster.local"',
          253,
        ),
      ),
      /**
       * The ServiceAccount Prometheus runs as in `monitoring.namespace` (enrolled in the mesh): the
       * only identity admitted to the `metrics` ports.
       */
      prometheusServiceAccount: dnsLabel(),
      /**
       * The ServiceAccount the ingress controller runs as in `ingress.controllerNamespace` (enrolled in
       * the mesh): the only identity admitted to a public service's port.
       */
      ingressServiceAccount: dnsLabel(),
    }),
  ),
  /** Development scales every request by this factor (limits unchanged). @default 1 */
  requestScale: opt(num(0.01, 1, 'a factor between 0.01 and 1 applied to every request (limits unchanged)')),
  quota: obj({
    requests: ref('resourceAmounts', resourceAmounts),
    limits: ref('resourceAmounts', resourceAmounts),
    pods: int(1, 100000),
  }),
  /** Environment-wide HPA defaults (constructs/autoscaling.ts). */
  autoscaling: opt(
    obj({
      /**
       * HPA behaviour of every autoscaled service that does not set its own (per direction).
       * @default scale up fast (double or +4 pods every 15s), scale down slowly (300s window, 25% or 1 pod a minute)
       */
      behavior: opt(scalingBehavior()),
    }),
  ),
  limitRange: obj({
    defaultRequest: ref('resourceAmounts', resourceAmounts),
    default: ref('resourceAmounts', resourceAmounts),
    max: ref('resourceAmounts', resourceAmounts),
  }),
  storageClass: dnsLabel(),
  ingress: obj({
    className: dnsLabel(),
    host: pattern('^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$', 'a fully qualified host name'),
    controllerNamespace: dnsLabel(),
    clusterIssuer: dnsLabel(),
    /**
     * HSTS max-age the ingress-nginx controller sends (its ConfigMap's `hsts-max-age`; HSTS is not set
     * on the Ingress), listed in dist/<target>/README.md.
     */
    hstsMaxAgeSeconds: int(
      0,
      63072000,
      'seconds; the HSTS max-age the ingress-nginx controller must send (its ConfigMap hsts-max-age), HSTS is not set on the Ingress',
    ),
    /** Requests per second per client (`limit-rps`). */
    rateLimitRps: int(1, 100000),
  }),
  secretStore: obj({
    name: dnsLabel(),
    /** The ClusterSecretStore `spec.provider` object, passed through (no credentials). */
    provider: Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      description: 'one External Secrets provider block, e.g. {aws: {service: SecretsManager, region: us-east-1}}',
    }),
    /** @default '1h' */
    refreshInterval: opt(duration),
  }),
  availability: obj({
    /** none: no spread; zones: spread over zones; zones-and-nodes: both. */
    spread: oneOfStrings(['none', 'zones', 'zones-and-nodes']),
    maxSurge: percentOrCount(),
    maxUnavailable: percentOrCount(),
    terminationGracePeriodSeconds: int(0, 3600),
    preStopSeconds: int(0, 600),
    /**
     * What the zone spread does when pods cannot spread evenly, and why this environment chose it
     * (required in production). A service's `spreadPolicy` overrides it in production.
     * @default ScheduleAnyway
     */
    zoneSpread: opt(
      obj({
        whenUnsatisfiable: oneOfStrings(
          ['DoNotSchedule', 'ScheduleAnyway'],
          'what the zone spread does when pods cannot spread evenly',
        ),
        reason: str('why this environment chose it'),
      }),
    ),
  }),
  priorityClasses: opt(
    mapOf(ref('priorityClass', priorityClass), 'PriorityClasses services may refer to with `priority`'),
  ),
  backups: opt(arr(ref('backup', backup))),
  delivery: obj({
    /** Git repository Argo CD reads `dist/` from. */
    repoURL: str('the Git repository Argo CD reads dist/ from'),
    revision: str(),
    /** Path of dist/ inside the repository. @default 'dist' */
    path: opt(str()),
    /** Argo CD destination server for this target. */
    server: str('the Argo CD destination server URL'),
    sync: oneOfStrings(['automated', 'manual']),
  }),
  monitoring: obj({
    namespace: dnsLabel(),
    /** Labels the Prometheus instance selects ServiceMonitors and rules by. */
    selectorLabels: labels(
      'labels the Prometheus instance selects ServiceMonitors and PrometheusRules by, written onto them as they are',
    ),
    /**
     * Labels of the Prometheus pods in `namespace`: only they may reach the `metrics` ports.
     * @default { 'app.kubernetes.io/name': 'prometheus' } (the Prometheus Operator's pods)
     */
    prometheusPodSelector: opt(
      labels('labels of the Prometheus pods (in monitoring.namespace) that may scrape the metrics ports', {
        minProperties: 1,
      }),
    ),
    /** @default '15s' */
    scrapeInterval: duration,
    /** `{alert}` is replaced with the alert name in lower-case kebab form. */
    runbookUrlPattern: pattern('^https://.*\\{alert\\}', 'an https URL containing {alert}'),
    grafana: obj({ dashboardLabel: labelKey, dashboardLabelValue: labelValue, folder: opt(text(DESCRIPTION_MAX)) }),
    alerting: opt(
      obj(
        optionalAll({
          pagerduty: obj({
            remoteKey: word('the key of the PagerDuty routing key in the cloud secret manager'),
            severities: arr(severity, { minItems: 1 }),
          }),
          slack: obj({
            remoteKey: word('the key of the Slack webhook URL in the cloud secret manager'),
            channel: word('the Slack channel, e.g. "#trading-alerts"'),
            severities: arr(severity, { minItems: 1 }),
          }),
        }),
      ),
    ),
    /** Severity of "target down". */
    targetDownSeverity: oneOfStrings(['critical', 'warning']),
    /** Thresholds of the standard alerts. */
    thresholds: ref('standardThresholds', standardThresholds),
    /**
     * Prometheus HTTP API the blue/green analysis and KEDA's prometheus triggers query.
     * @default 'http://prometheus-operated.monitoring.svc:9090'
     */
    prometheusUrl: opt(
      pattern(
        '^https?://[^\\s/]+(:[0-9]+)?(/\\S*)?$',
        "the Prometheus HTTP API the blue/green analysis and KEDA's prometheus triggers query, e.g. http://prometheus-operated.monitoring.svc:9090",
      ),
    ),
  }),
  /**
   * Distributed tracing (OpenTelemetry): every traced service's containers get the standard
   * `OTEL_*` variables (exporter endpoint and protocol, a parent-based trace-id-ratio sampler,
   * resource attributes) and its NetworkPolicy egress to the collector on its port, nothing more.
   * @default off
   */
  tracing: opt(
    obj({
      enabled: bool('whether the services of this environment export traces'),
      /** Where spans go: an OpenTelemetry Collector, or Jaeger's own OTLP receiver. Required when enabled. */
      collector: opt(
        obj({
          /**
           * `<service>.<namespace>[:port]` (or `.svc`, `.svc.cluster.local`) for a collector in the
           * cluster, or `https://host[:port]` with `external`. The port defaults to the protocol's
           * (4317 grpc, 4318 http/protobuf).
           */
          endpoint: str(
            'the collector: "<service>.<namespace>:<port>" in the cluster (e.g. "otel-collector.observability:4317"), or "https://host:port" of a peer under externals with `external`',
          ),
          /** The peer under `externals` (CIDRs and ports) the endpoint lies in, for a collector outside the cluster. */
          external: opt(
            dnsLabel('the peer under externals that holds the collector outside the cluster (its CIDRs and ports)'),
          ),
          /**
           * Labels of the collector's pods in its namespace: egress is opened to them only.
           * @default { 'app.kubernetes.io/name': 'opentelemetry-collector' } (the OpenTelemetry Collector chart's pods)
           */
          podSelector: opt(
            labels("labels of the collector's pods in its namespace; egress is opened to them only", {
              minProperties: 1,
            }),
          ),
        }),
      ),
      /** OTLP over gRPC (port 4317) or over HTTP with protobuf (port 4318). @default 'grpc' */
      protocol: opt(
        oneOfStrings(['grpc', 'http/protobuf'], 'the OTLP transport: grpc (port 4317) or http/protobuf (port 4318)'),
      ),
      /** The ratio of root spans sampled (parent-based: a callee follows its caller's decision). Required when enabled. */
      samplingRatio: opt(num(0, 1, 'a ratio between 0 and 1 of root spans sampled (0.05 is 5%)')),
    }),
  ),
  featureFlags: opt(mapOf(ref('featureFlag', featureFlag), 'feature flags by name')),
  externals: opt(mapOf(ref('externalPeer', externalPeer), 'peers outside the cluster, by name')),
  services: mapOf(ref('service', service), 'the services of the platform, by name', {
    pattern: DNS1035_LABEL,
    maxLength: 63,
    description:
      'DNS-1035 labels (each names a Kubernetes Service): lower-case letters, digits and "-", starting with a letter, at most 63 characters',
  }),
});

/** The schema of one merged target. */
export const targetSchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://trading.example.com/schemas/environment.json',
  title: 'Trading platform environment',
  ...target,
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
  const region = { type: 'object', additionalProperties: false, properties: regionProperties };
  properties.regions = mapOf(Type.Unsafe(region), 'one deployment target per region, each overriding the environment');
  return {
    ...stripped,
    $id: 'https://trading.example.com/schemas/environment-file.json',
    title: 'Trading platform environment file',
    properties,
  };
}

function stripRequired(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripRequired);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'required' && Array.isArray(inner)) continue;
    // keep the discriminating `if` of hpaMetric and the oneOf branches intact: they need `required`
    out[key] = key === 'if' || key === 'then' || key === 'oneOf' ? inner : stripRequired(inner);
  }
  return out;
}
