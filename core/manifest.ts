/** A synthesized Kubernetes object, as plain JSON. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [key: string]: unknown;
}

/**
 * A synthesized object, or a part of one, read field by field by the checks and README writers of
 * pipeline/: its shape is the API server's (every object is checked against the server's schema by
 * npm run test:cluster), not a TypeScript type, so its fields are read untyped. The one place
 * the project spells `any`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Obj = Record<string, any>;

/** Kinds that are not namespaced, among those this project emits. */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'ClusterSecretStore',
  'StorageClass',
  'CustomResourceDefinition',
  'IngressClass',
]);

/** The file a manifest is written to inside its target folder: `<kind>-<name>.yaml`. */
export function fileNameOf(manifest: Manifest): string {
  return `${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`;
}

/** Manifests of a given kind. */
export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The one manifest of `kind` named `name`, or an error naming what exists. */
export function find(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const names = ofKind(manifests, kind).map((m) => m.metadata.name);
    throw new Error(`no ${kind} named "${name}"; ${kind} objects: ${names.join(', ') || 'none'}`);
  }
  return found;
}
