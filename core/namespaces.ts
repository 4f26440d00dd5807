import type { TargetConfig } from '../config/types';

/** Argo CD's namespace: the Applications and AppProjects of dist/argocd live there. */
export const ARGOCD_NAMESPACE = 'argocd';

/** Velero's namespace: Schedules are read there only (installed by Velero's own chart). */
export const VELERO_NAMESPACE = 'velero';

/** A namespace, other than the target's own, that a target writes objects of given kinds into. */
export interface ForeignNamespace {
  readonly namespace: string;
  readonly kinds: readonly string[];
  readonly why: string;
}

/**
 * Namespaces outside the target's own that its folder in dist/ legitimately writes to: Velero
 * Schedules live in Velero's namespace. The policy check, the Argo CD AppProject's destinations
 * and the Application all read this one list.
 */
export function foreignNamespaces(config: TargetConfig): ForeignNamespace[] {
  return config.backups.length
    ? [{ namespace: VELERO_NAMESPACE, kinds: ['Schedule'], why: 'Velero reads Schedules in its own namespace' }]
    : [];
}

/** Every namespace a target's objects may be in: its own first. */
export function targetNamespaces(config: TargetConfig): string[] {
  return [config.namespace, ...foreignNamespaces(config).map((f) => f.namespace)];
}
