/**
 * The target's own namespace must be its own. Synth gives it a default-deny NetworkPolicy, a
 * ResourceQuota, a LimitRange and Pod Security `restricted`, and a non-production Application
 * deletes it with the target: taken as a namespace that other software lives in, that would cut
 * off or block what runs there (CoreDNS in kube-system, Prometheus, Argo CD itself).
 */
import { ARGOCD_NAMESPACE, VELERO_NAMESPACE } from '../core/namespaces';
import { show, PathSegment } from './errors';
import { meshOf } from './model';
import { TargetConfig } from './types';

/** Namespaces of Kubernetes and of the software the platform works with, and what runs there. */
function reservedNamespaces(config: TargetConfig): Map<string, string> {
  const reserved = new Map<string, string>([
    ['kube-system', 'belongs to Kubernetes: the DNS, the network plugin and the controllers run there'],
    ['kube-public', 'belongs to Kubernetes: every client may read it'],
    ['kube-node-lease', "belongs to Kubernetes: the nodes' heartbeats are kept there"],
    ['default', "is Kubernetes' default: every object without a namespace lands there"],
    [ARGOCD_NAMESPACE, "is Argo CD's: dist/argocd's Applications live there"],
    [VELERO_NAMESPACE, "is Velero's: the backup Schedules live there"],
    // the install namespaces of the controllers the target's objects need (their Helm charts' and manifests')
    ['external-secrets', "is the External Secrets Operator's: its controller and webhook run there"],
    ['argo-rollouts', "is the Argo Rollouts controller's"],
    ['keda', "is KEDA's: its operator and metrics server run there"],
  ]);
  reserved.set(config.monitoring.namespace, "is Prometheus' (monitoring.namespace)");
  reserved.set(config.ingress.controllerNamespace, "is the ingress controller's (ingress.controllerNamespace)");
  if (meshOf(config)) reserved.set('istio-system', "is the Istio control plane's");
  // the tracing collector's namespace is tracing-rules.ts's to refuse: one message, which says which of the two to move
  return reserved;
}

/** Refuses a target namespace that belongs to Kubernetes or to other software on the cluster. */
export function checkNamespaceRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  const owner = reservedNamespaces(config).get(config.namespace);
  if (owner === undefined) return;
  at(
    ['namespace'],
    `${show(config.namespace)} ${owner}; a target may not take it: synth gives the target's namespace a default-deny NetworkPolicy, a ResourceQuota and Pod Security "restricted", which would cut off or block what runs there. Give the target a namespace of its own (e.g. "${config.platform.name}-${config.environment}")`,
  );
}
