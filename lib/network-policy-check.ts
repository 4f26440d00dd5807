import { TargetConfig } from '../config/types';
import { isWholeInternet } from './cidr';
import { Manifest } from './manifest';

/** A broken network rule, in the shape lib/policy.ts reports. */
export interface NetworkFinding {
  readonly rule: string;
  /** The offending policy; undefined when something is missing. */
  readonly manifest?: Manifest;
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

type Obj = Record<string, any>;

/**
 * Zero trust over the synthesized NetworkPolicies, whoever made them: the namespace has a default
 * deny of ingress and egress; no rule allows every peer or every port; no ipBlock opens the whole
 * internet unless an external peer declares that block with a reason.
 */
export function checkNetworkPolicies(config: TargetConfig, manifests: readonly Manifest[]): NetworkFinding[] {
  const findings: NetworkFinding[] = [];
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy') as Obj[];
  const denies = policies.some((p) => (p.metadata.namespace ?? config.namespace) === config.namespace
    && Object.keys(p.spec?.podSelector ?? { x: 1 }).length === 0
    && ['Ingress', 'Egress'].every((t) => (p.spec.policyTypes ?? []).includes(t))
    && !(p.spec.ingress ?? []).length && !(p.spec.egress ?? []).length);
  if (!denies) {
    findings.push({ rule: 'network-default-deny', field: '', message: `namespace "${config.namespace}" has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`, fix: 'keep NamespaceNetworkPolicies in the chart' });
  }
  const justified = new Set(Object.values(config.externals).filter((e) => e.reason).flatMap((e) => e.cidrs));
  for (const policy of policies) {
    const sides: Array<[string, string]> = [['ingress', 'from'], ['egress', 'to']];
    for (const [side, peersKey] of sides) {
      (policy.spec?.[side] ?? []).forEach((rule: Obj, i: number) => {
        const at = `spec.${side}[${i}]`;
        if (!(rule[peersKey] ?? []).length) {
          findings.push({ rule: 'network-least-privilege', manifest: policy as Manifest, field: `${at}.${peersKey}`, message: `is empty, which allows every ${side === 'ingress' ? 'source' : 'destination'}`, fix: 'derive the rule from the service graph (dependsOn, externals)' });
        }
        if (!(rule.ports ?? []).length) {
          findings.push({ rule: 'network-least-privilege', manifest: policy as Manifest, field: `${at}.ports`, message: 'is empty, which allows every port', fix: 'name the ports of the flow' });
        }
        (rule[peersKey] ?? []).forEach((peer: Obj, j: number) => {
          const cidr = peer.ipBlock?.cidr;
          if (cidr && isWholeInternet(cidr) && !justified.has(cidr)) {
            findings.push({ rule: 'network-least-privilege', manifest: policy as Manifest, field: `${at}.${peersKey}[${j}].ipBlock.cidr`, message: `${cidr} opens the whole internet and no external peer declares it with a reason`, fix: 'narrow the block, or declare it under externals with a "reason"' });
          }
        });
      });
    }
  }
  return findings;
}
