import { Manifest } from '../core/manifest';

/** One changed field of an object present on both sides. */
export interface FieldChange {
  /** JSON-path-like: `spec.template.spec.containers[name=gateway].image`, `metadata.labels["app.kubernetes.io/name"]`. */
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

export interface ObjectChange {
  /** `Kind/name`, or `Kind/old → new` when the only object of a kind was renamed. */
  readonly object: string;
  readonly kind: string;
  readonly changes: FieldChange[];
}

export interface ManifestDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: ObjectChange[];
}

type Json = unknown;

const keyOf = (m: Manifest) => `${m.kind}/${m.metadata.name}`;

/**
 * The semantic difference between two sets of manifests (e.g. two targets): objects matched by
 * kind and name (namespaces may differ between environments and show as a changed field); when a
 * kind has exactly one unmatched object on each side, they are paired as a rename. Lists of
 * named items (containers, ports, env, volumes) are matched by name, other lists by position.
 */
export function diffManifests(from: readonly Manifest[], to: readonly Manifest[]): ManifestDiff {
  const before = new Map(from.map((m) => [keyOf(m), m]));
  const after = new Map(to.map((m) => [keyOf(m), m]));
  const changed: ObjectChange[] = [];
  for (const [key, a] of before) {
    const b = after.get(key);
    if (!b) continue;
    const changes = diffValues(a, b, '');
    if (changes.length) changed.push({ object: key, kind: a.kind, changes });
  }
  let removed = [...before.keys()].filter((k) => !after.has(k));
  let added = [...after.keys()].filter((k) => !before.has(k));
  const kinds = new Set([...removed, ...added].map((k) => k.split('/')[0]));
  for (const kind of kinds) {
    const r = removed.filter((k) => k.split('/')[0] === kind);
    const a = added.filter((k) => k.split('/')[0] === kind);
    if (r.length === 1 && a.length === 1) {
      const oldM = before.get(r[0])!;
      const newM = after.get(a[0])!;
      changed.push({
        object: `${kind}/${oldM.metadata.name} → ${newM.metadata.name}`,
        kind,
        changes: diffValues(oldM, newM, ''),
      });
      removed = removed.filter((k) => k !== r[0]);
      added = added.filter((k) => k !== a[0]);
    }
  }
  changed.sort((x, y) => x.object.localeCompare(y.object));
  return { added: added.sort(), removed: removed.sort(), changed };
}

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fieldPath(base: string, key: string): string {
  const plain = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key);
  if (plain) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** Whether every item of both lists is an object with a unique `name`, so they can be matched by it. */
function namedItems(a: Json[], b: Json[]): boolean {
  const names = (list: Json[]) => list.map((x) => (isObject(x) && typeof x.name === 'string' ? x.name : undefined));
  const na = names(a);
  const nb = names(b);
  return (
    [...na, ...nb].every((n) => n !== undefined) && new Set(na).size === na.length && new Set(nb).size === nb.length
  );
}

export function diffValues(a: Json, b: Json, path: string): FieldChange[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffValues(a[k], b[k], fieldPath(path, k)));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (namedItems(a, b) && (a.length || b.length)) {
      const byName = (list: Json[]) => new Map(list.map((x) => [(x as Record<string, string>).name, x]));
      const ma = byName(a);
      const mb = byName(b);
      const names = [...new Set([...ma.keys(), ...mb.keys()])];
      return names.flatMap((n) => diffValues(ma.get(n), mb.get(n), `${path}[name=${n}]`));
    }
    const length = Math.max(a.length, b.length);
    return Array.from({ length }, (_, i) => diffValues(a[i], b[i], `${path}[${i}]`)).flat();
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a === 'string' && typeof b === 'string') {
    // embedded JSON documents (Grafana dashboards in ConfigMaps) are compared field by field
    const ja = parseDocument(a);
    const jb = parseDocument(b);
    if (ja !== undefined && jb !== undefined) return diffValues(ja, jb, `${path}(json)`);
  }
  return [{ path, from: a, to: b }];
}

function parseDocument(text: string): Json | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The diff as text for a review: one line per added or removed object and per changed field. */
export function formatDiff(fromName: string, toName: string, diff: ManifestDiff): string {
  const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
  const fields = diff.changed.reduce((n, c) => n + c.changes.length, 0);
  const lines = [
    `${fromName} → ${toName}: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed (${fields} field${fields === 1 ? '' : 's'})`,
  ];
  for (const object of diff.removed) lines.push(`- ${object}`);
  for (const object of diff.added) lines.push(`+ ${object}`);
  for (const object of diff.changed) {
    lines.push(`~ ${object.object}`);
    for (const change of object.changes) lines.push(`    ${change.path}: ${show(change.from)} → ${show(change.to)}`);
  }
  return lines.join('\n');
}
