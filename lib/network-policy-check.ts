import { TargetConfig } from '../config/types';
import { selectorLabels } from '../constructs/labels';
import { parseCidr, cidrContains, wideCidrs, WIDEST_PREFIX } from './cidr';
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
 * deny of ingress and egress; no rule allows every peer or every port; no rule's ipBlocks open
 * (nearly) the whole internet (lib/cidr.ts, wideCidrs) unless they lie inside one external peer
 * that declares a reason and that the policy's own service depends on: a justified 0.0.0.0/0 of
 * one peer never excuses the same block in another service's policy.
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
  // services by each `key=value` of their selector labels, so a policy looks only at plausible ones
  const byLabel = new Map<string, Array<{ service: (typeof config.services)[string]; labels: Record<string, string> }>>();
  for (const svc of Object.values(config.services)) {
    const labels = selectorLabels(config, svc);
    for (const [k, v] of Object.entries(labels)) {
      const bucket = byLabel.get(`${k}=${v}`);
      if (bucket) bucket.push({ service: svc, labels });
      else byLabel.set(`${k}=${v}`, [{ service: svc, labels }]);
    }
  }
  // the justified peers of each policy: those with a reason that the selected service depends on
  const justifiedFor = (policy: Obj): ReadonlyArray<{ name: string; cidrs: string[] }> => {
    const selector: Record<string, string> = policy.spec?.podSelector?.matchLabels ?? {};
    const pairs = Object.entries(selector);
    // the first service, in declaration order, whose selector labels the policy's selector matches:
    // it is in the bucket of every pair of the selector, so the smallest bucket will do
    const buckets = pairs.map(([k, v]) => byLabel.get(`${k}=${v}`) ?? []);
    const smallest = buckets.length ? buckets.reduce((a, b) => (b.length < a.length ? b : a)) : [];
    const service = smallest.find(({ labels }) => pairs.every(([k, v]) => labels[k] === v))?.service;
    return (service?.dependsOn ?? []).flatMap((d) => ('external' in d && config.externals[d.external]?.reason ? [config.externals[d.external]] : []));
  };
  const inside = (cidr: string, block: string) => {
    const c = parseCidr(cidr);
    const b = parseCidr(block);
    return !!c && !!b && c.family === b.family && c.prefix >= b.prefix && cidrContains(block, cidr.split('/')[0]);
  };
  for (const policy of policies) {
    const justified = justifiedFor(policy);
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
        const blocks: Array<{ cidr: string; j: number }> = (rule[peersKey] ?? []).flatMap((peer: Obj, j: number) => (peer.ipBlock?.cidr ? [{ cidr: String(peer.ipBlock.cidr), j }] : []));
        const wide = wideCidrs(blocks.map((b) => b.cidr));
        if (!wide.length) return;
        const excuse = justified.find((peer) => blocks.every((b) => peer.cidrs.some((c) => inside(b.cidr, c))));
        if (excuse) return;
        const dependsOn = justified.length ? `; the peers with a reason this service depends on are ${justified.map((p) => p.name).join(', ')}, and they do not declare these blocks` : '';
        for (const w of wide) {
          const field = w.index === undefined ? `${at}.${peersKey}` : `${at}.${peersKey}[${blocks[w.index].j}].ipBlock.cidr`;
          findings.push({ rule: 'network-least-privilege', manifest: policy as Manifest, field, message: `${w.message} and no external peer this service depends on declares it with a reason${dependsOn}`, fix: `narrow the blocks (/${WIDEST_PREFIX[4]} or narrower for IPv4, /${WIDEST_PREFIX[6]} for IPv6), or declare them under externals with a "reason" and depend on that peer` });
        }
      });
    }
  }
  return findings;
}
