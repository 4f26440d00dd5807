import { canonicalCidr, networkOf, parseCidr, WIDEST_PREFIX, wideCidrs } from '../core/cidr';
import { describeGrant, riskyGrants } from '../core/rbac-risks';
import { isReason, REASON_ALLOWED } from '../core/reason';
import { PathSegment, show } from './errors';
import { ApiAccess, ExternalPeer, TargetConfig, Tier } from './types';

type At = (p: PathSegment[], message: string) => void;

/** Verbs that return a Secret's data: the reads, and the writes that answer with the stored object. */
const SECRET_DATA_VERBS = new Set(['get', 'list', 'watch', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * Verbs whose requests carry no object name in the URL, so `resourceNames` can never match them:
 * the rule would silently grant nothing (Kubernetes RBAC documentation, "Referring to resources").
 */
const UNNAMED_VERBS = new Set(['create', 'deletecollection']);

/**
 * Rules of the network graph the schema cannot express. Dependencies on undeclared services or
 * externals and unjustified 0.0.0.0/0 are checked in config/rules.ts; here: every external CIDR
 * must be a real, canonical block (it becomes a NetworkPolicy `ipBlock`).
 */
export function checkNetworkRules(config: TargetConfig, at: At): void {
  for (const peer of Object.values(config.externals)) {
    peer.cidrs.forEach((text, i) => {
      const cidr = parseCidr(text);
      if (!cidr) {
        at(
          ['externals', peer.name, 'cidrs', i],
          `${show(text)} is not a valid CIDR; expected an IPv4 block such as "203.0.113.0/24" (octets 0-255, prefix 0-32) or an IPv6 block such as "2001:db8::/32"`,
        );
      } else if (networkOf(cidr) !== cidr.address) {
        at(
          ['externals', peer.name, 'cidrs', i],
          `${show(text)} has host bits set, so it is not the block it looks like; write its network address, ${show(canonicalCidr(cidr))}, or a /${cidr.family === 4 ? 32 : 128} for a single host`,
        );
      }
    });
  }
}

/**
 * Whole-internet egress judged per service, over everything it may reach: the blocks of every
 * external peer a service depends on that gives no reason must not, together, open (nearly) the
 * whole internet (core/cidr.ts, wideCidrs), or 256 peers of one /8 each would open what one peer
 * with the same blocks may not. A peer whose own blocks are too wide is reported on the peer
 * (config/rules.ts) and left out here.
 */
export function checkEgressUnion(config: TargetConfig, at: At): void {
  for (const service of Object.values(config.services)) {
    const seen = new Set<string>();
    const unjustified: Array<{ peer: ExternalPeer; index: number }> = [];
    (service.dependsOn ?? []).forEach((dep, index) => {
      if (!('external' in dep)) return;
      const peer = config.externals[dep.external];
      if (!peer || seen.has(peer.name)) return;
      seen.add(peer.name);
      if (isReason(peer.reason) || wideCidrs(peer.cidrs).length) return;
      unjustified.push({ peer, index });
    });
    if (unjustified.length < 2) continue;
    const wide = wideCidrs(unjustified.flatMap(({ peer }) => peer.cidrs));
    if (!wide.length) continue;
    const named = unjustified.map(({ peer }) => `${peer.name} (${peer.cidrs.join(', ')})`);
    const peers = named.length > 6 ? `${named.slice(0, 5).join(', ')} and ${named.length - 5} more` : named.join(', ');
    for (const w of wide) {
      at(
        ['services', service.name, 'dependsOn'],
        `service "${service.name}" may reach the external peers ${peers}, whose blocks ${w.message.replace(/^.* (together )/, '$1')}; the egress of one service is judged as a whole. Narrow the peers' blocks (at most one /${WIDEST_PREFIX[4]} of public IPv4 or /${WIDEST_PREFIX[6]} of IPv6 in all, over the peers without a reason) or add a "reason" (${REASON_ALLOWED}) to each of these externals saying why`,
      );
    }
  }
}

/**
 * Least privilege for the Kubernetes API (PLATFORM.md, "Access to the Kubernetes API"): explicit
 * verbs, resources and API groups (no `*`), no access to Secrets (services get their secrets from
 * External Secrets as environment variables), and no `resourceNames` on verbs they cannot limit.
 * `scope: cluster` is the only way to a ClusterRole, so it is always declared. A grant that can
 * take over the cluster (core/rbac-risks.ts) needs a `reason` on its rule, and is refused in
 * production even with one.
 */
export function checkApiRules(config: TargetConfig, at: At): void {
  for (const service of Object.values(config.services)) {
    (service.api ?? []).forEach((rule, i) =>
      checkApiRule(service.name, rule, ['services', service.name, 'api', i], config.tier, at),
    );
  }
}

function checkApiRule(service: string, rule: ApiAccess, p: PathSegment[], tier: Tier, at: At): void {
  const wildcard = (field: 'verbs' | 'resources' | 'resourceNames', values: readonly string[]) =>
    values.forEach((value, j) => {
      if (value.includes('*')) {
        at(
          [...p, field, j],
          `${show(value)} is a wildcard; service "${service}" must list every ${field === 'verbs' ? 'verb' : field === 'resources' ? 'resource' : 'object name'} it needs explicitly (least privilege: a wildcard also grants whatever is added later)`,
        );
      }
    });
  if (rule.apiGroup.includes('*')) {
    at(
      [...p, 'apiGroup'],
      `${show(rule.apiGroup)} is a wildcard; name the one API group of the resources ("" for the core group, e.g. "coordination.k8s.io" for leases)`,
    );
  }
  wildcard('verbs', rule.verbs);
  wildcard('resources', rule.resources);
  wildcard('resourceNames', rule.resourceNames ?? []);

  rule.resources.forEach((resource, j) => {
    const secretData = rule.verbs.filter((v) => SECRET_DATA_VERBS.has(v));
    if ((rule.apiGroup === '' || rule.apiGroup === 'v1') && resource.split('/')[0] === 'secrets' && secretData.length) {
      at(
        [...p, 'resources', j],
        `service "${service}" asks for ${secretData.join(', ')} on "secrets"; read access to Secrets is not allowed (get, list and watch read them, update, patch and delete answer with their data). Declare the value under the service's secrets so an ExternalSecret provides it as an environment variable`,
      );
    }
  });

  for (const grant of riskyGrants([rule.apiGroup], rule.resources, rule.verbs)) {
    const j = rule.resources.indexOf(grant.resource);
    const what = `service "${service}" asks for ${describeGrant(grant)} (${grant.risk.name}), which ${grant.risk.why}`;
    if (tier === 'production') {
      at(
        [...p, 'resources', j],
        `${what}; such grants are refused in production, even with a reason. Remove the rule from the production environment (services.${service}.api in its file replaces the list) or grant it outside the platform`,
      );
    } else if (!isReason(rule.reason)) {
      const got = rule.reason === undefined ? 'the rule gives no reason' : `its reason ${show(rule.reason)} is not one`;
      at(
        [...p, 'resources', j],
        `${what}; ${got}. Remove the grant, or add "reason" to the rule (${REASON_ALLOWED}) saying why the service needs it (production refuses it even then)`,
      );
    }
  }

  if (rule.resourceNames?.length) {
    const unnamed = rule.verbs.filter((v) => UNNAMED_VERBS.has(v));
    if (unnamed.length) {
      at(
        [...p, 'verbs'],
        `${unnamed.map((v) => show(v)).join(', ')} cannot be restricted by resourceNames (the request carries no object name), so this rule would never allow it; move ${unnamed.join(', ')} to a rule of its own without resourceNames`,
      );
    }
  }
}
