/**
 * What the Kubernetes API server would refuse, checked over the rendered objects of a target
 * before anything is written: names as their kind requires them, label keys and values,
 * annotation size, ConfigMap/Secret data size and object size. An object that breaks one of these
 * is written to dist/ happily and refused only when Argo CD applies it; here the synth fails with
 * the target, kind/name, field, a short excerpt of the value, the rule and the fix.
 *
 * One pass over each object's metadata, pod template and selectors; object sizes are bounded
 * cheaply first (core/sync-waves.ts, `jsonBytesBound`, computed as the object was made) and measured exactly only near a limit.
 */
import {
  followsNameRule,
  isConfigMapKey,
  isLabelKey,
  isLabelValue,
  LABEL_KEY_RULE,
  LABEL_VALUE_RULE,
  MAX_ANNOTATIONS_BYTES,
  MAX_DATA_BYTES,
  MAX_OBJECT_BYTES,
  NAME_RULES,
  NameRule,
} from '../core/k8s-names';
import { Manifest, Obj } from '../core/manifest';
import type { PolicyViolation } from './policy';
import { jsonBytesBound } from '../core/sync-waves';

/** Kinds whose name the API server validates more strictly than a DNS-1123 subdomain. */
const NAME_RULE_OF_KIND: Record<string, NameRule> = {
  Namespace: 'dns1123-label',
  Service: 'dns1035-label',
  Role: 'path-segment',
  ClusterRole: 'path-segment',
  RoleBinding: 'path-segment',
  ClusterRoleBinding: 'path-segment',
};

/** Kinds that carry a pod template at `spec.template` (their selector is `spec.selector.matchLabels`). */
const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Rollout']);

const RULE = 'api-server';

/** A short, quoted excerpt of a value for a message. */
function excerpt(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 40
    ? `${JSON.stringify(text.slice(0, 40))}... (${text.length} characters)`
    : JSON.stringify(text);
}

const bytes = (n: number) =>
  n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 100) / 100} MiB` : `${Math.round(n / 1024)} KiB`;

/** Every rule of the API server this project's objects could break, over every object of a target. */
export function checkApiServerRules(target: string, manifests: readonly Manifest[]): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  for (const m of manifests) {
    const add = (field: string, message: string, fix: string) =>
      violations.push({ rule: RULE, target, kind: m.kind, name: excerptName(m.metadata?.name), field, message, fix });
    checkObject(m as Obj, add);
  }
  return violations;
}

function excerptName(name: unknown): string {
  const text = String(name);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Add = (field: string, message: string, fix: string) => void;

function checkObject(m: Obj, add: Add): void {
  const metadata: Obj = m.metadata ?? {};
  const name = metadata.name;
  const nameRule = NAME_RULE_OF_KIND[m.kind] ?? 'dns1123-subdomain';
  if (typeof name !== 'string' || !followsNameRule(name, nameRule)) {
    add(
      'metadata.name',
      `${excerpt(name)} is not ${NAME_RULES[nameRule]}`,
      'shorten or rename what it is derived from (the service, environment or platform name in environments/)',
    );
  }
  if (metadata.namespace !== undefined && !followsNameRule(String(metadata.namespace), 'dns1123-label')) {
    add(
      'metadata.namespace',
      `${excerpt(metadata.namespace)} is not ${NAME_RULES['dns1123-label']}`,
      'fix `namespace` in environments/',
    );
  }
  checkLabels(metadata.labels, 'metadata.labels', add);
  checkAnnotations(metadata.annotations, 'metadata.annotations', add);

  const spec: Obj | undefined = m.spec;
  if (spec && TEMPLATE_KINDS.has(m.kind)) {
    checkLabels(spec.selector?.matchLabels, 'spec.selector.matchLabels', add);
    checkLabels(spec.template?.metadata?.labels, 'spec.template.metadata.labels', add);
    checkAnnotations(spec.template?.metadata?.annotations, 'spec.template.metadata.annotations', add);
  } else if (spec && m.kind === 'CronJob') {
    const template = spec.jobTemplate?.spec?.template?.metadata;
    checkLabels(template?.labels, 'spec.jobTemplate.spec.template.metadata.labels', add);
    checkAnnotations(template?.annotations, 'spec.jobTemplate.spec.template.metadata.annotations', add);
  } else if (spec && m.kind === 'Service') {
    checkLabels(spec.selector, 'spec.selector', add);
  }
  if (m.kind === 'ConfigMap' || m.kind === 'Secret') checkData(m, add);
  checkSize(m, add);
}

function checkLabels(labels: unknown, at: string, add: Add): void {
  if (!labels || typeof labels !== 'object') return;
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    if (!isLabelKey(key)) {
      add(
        `${at}[${excerpt(key)}]`,
        `the key ${excerpt(key)} is not ${LABEL_KEY_RULE}`,
        'rename the label (monitoring.selectorLabels, monitoring.grafana.dashboardLabel or the names it is made from, in environments/)',
      );
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      add(
        `${at}[${excerpt(key)}]`,
        `the value ${excerpt(value)} is not ${LABEL_VALUE_RULE}`,
        'shorten or change what it is made from (a service, environment or platform name, a label value in environments/)',
      );
    }
  }
}

function checkAnnotations(annotations: unknown, at: string, add: Add): void {
  if (!annotations || typeof annotations !== 'object') return;
  // a UTF-16 unit is at most 3 bytes of UTF-8: measured exactly only when the bound is over
  let upper = 0;
  for (const [key, value] of Object.entries(annotations as Record<string, unknown>)) {
    if (!isLabelKey(key))
      add(
        `${at}[${excerpt(key)}]`,
        `the key ${excerpt(key)} is not ${LABEL_KEY_RULE.replace('a label key', 'an annotation key')}`,
        'rename the annotation',
      );
    upper += 3 * (key.length + String(value).length);
  }
  if (upper <= MAX_ANNOTATIONS_BYTES) return;
  const total = Object.entries(annotations as Record<string, unknown>).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  if (total > MAX_ANNOTATIONS_BYTES) {
    add(
      at,
      `total ${bytes(total)}, over the API server's limit of ${bytes(MAX_ANNOTATIONS_BYTES)} for all annotations of an object`,
      'shorten the long texts written to annotations (alert summaries, descriptions and reasons in environments/)',
    );
  }
}

/** ConfigMap and Secret data: keys as the API server accepts them, at most 1 MiB of keys and values together. */
function checkData(m: Obj, add: Add): void {
  let upper = 0;
  for (const field of ['data', 'binaryData', 'stringData']) {
    for (const [key, value] of Object.entries((m[field] ?? {}) as Record<string, unknown>)) {
      if (!isConfigMapKey(key))
        add(
          `${field}[${excerpt(key)}]`,
          `the key ${excerpt(key)} is not a valid ${m.kind} key: at most 253 letters, digits, "-", "_" and "."`,
          "rename the key (the service's `config` in environments/)",
        );
      upper += 3 * key.length + 3 * String(value).length;
    }
  }
  if (upper <= MAX_DATA_BYTES) return;
  let total = 0;
  let largest = { field: '', size: -1 };
  for (const field of ['data', 'binaryData', 'stringData']) {
    for (const [key, value] of Object.entries((m[field] ?? {}) as Record<string, unknown>)) {
      const size = Buffer.byteLength(key) + Buffer.byteLength(String(value));
      total += size;
      if (size > largest.size) largest = { field: `${field}[${excerpt(key)}]`, size };
    }
  }
  if (total > MAX_DATA_BYTES) {
    add(
      largest.field,
      `the ${m.kind}'s data is ${bytes(total)} (this key ${bytes(largest.size)}), over the API server's limit of ${bytes(MAX_DATA_BYTES)} for a ${m.kind}`,
      'shorten what is written into it (service descriptions, config values, dashboards), or split it',
    );
  }
}

/** Any object: at most etcd's request limit, 1.5 MiB of JSON. */
function checkSize(m: Obj, add: Add): void {
  if (jsonBytesBound(m as Manifest) <= MAX_OBJECT_BYTES) return;
  const size = Buffer.byteLength(JSON.stringify(m));
  if (size > MAX_OBJECT_BYTES) {
    add(
      '(whole object)',
      `is ${bytes(size)} as JSON, over etcd's request limit of ${bytes(MAX_OBJECT_BYTES)} (the largest object the API server stores)`,
      'shorten what is written into it (descriptions, config values, alert texts in environments/), or split it',
    );
  }
}
