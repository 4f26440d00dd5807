import { canonicalCidr, networkOf, parseCidr } from '../lib/cidr';
import { PathSegment, show } from './errors';
import { ApiAccess, TargetConfig } from './types';

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
        at(['externals', peer.name, 'cidrs', i], `${show(text)} is not a valid CIDR; expected an IPv4 block such as "203.0.113.0/24" (octets 0-255, prefix 0-32) or an IPv6 block such as "2001:db8::/32"`);
      } else if (networkOf(cidr) !== cidr.address) {
        at(['externals', peer.name, 'cidrs', i], `${show(text)} has host bits set, so it is not the block it looks like; write its network address, ${show(canonicalCidr(cidr))}, or a /${cidr.family === 4 ? 32 : 128} for a single host`);
      }
    });
  }
}

/**
 * Least privilege for the Kubernetes API (PLATFORM.md, "Access to the Kubernetes API"): explicit
 * verbs, resources and API groups (no `*`), no access to Secrets (services get their secrets from
 * External Secrets as environment variables), and no `resourceNames` on verbs they cannot limit.
 * `scope: cluster` is the only way to a ClusterRole, so it is always declared.
 */
export function checkApiRules(config: TargetConfig, at: At): void {
  for (const service of Object.values(config.services)) {
    (service.api ?? []).forEach((rule, i) => checkApiRule(service.name, rule, ['services', service.name, 'api', i], at));
  }
}

function checkApiRule(service: string, rule: ApiAccess, p: PathSegment[], at: At): void {
  const wildcard = (field: 'verbs' | 'resources' | 'resourceNames', values: readonly string[]) => values.forEach((value, j) => {
    if (value.includes('*')) {
      at([...p, field, j], `${show(value)} is a wildcard; service "${service}" must list every ${field === 'verbs' ? 'verb' : field === 'resources' ? 'resource' : 'object name'} it needs explicitly (least privilege: a wildcard also grants whatever is added later)`);
    }
  });
  if (rule.apiGroup.includes('*')) {
    at([...p, 'apiGroup'], `${show(rule.apiGroup)} is a wildcard; name the one API group of the resources ("" for the core group, e.g. "coordination.k8s.io" for leases)`);
  }
  wildcard('verbs', rule.verbs);
  wildcard('resources', rule.resources);
  wildcard('resourceNames', rule.resourceNames ?? []);

  rule.resources.forEach((resource, j) => {
    const secretData = rule.verbs.filter((v) => SECRET_DATA_VERBS.has(v));
    if ((rule.apiGroup === '' || rule.apiGroup === 'v1') && resource.split('/')[0] === 'secrets' && secretData.length) {
      at([...p, 'resources', j], `service "${service}" asks for ${secretData.join(', ')} on "secrets"; read access to Secrets is not allowed (get, list and watch read them, update, patch and delete answer with their data). Declare the value under the service's secrets so an ExternalSecret provides it as an environment variable`);
    }
  });

  if (rule.resourceNames?.length) {
    const unnamed = rule.verbs.filter((v) => UNNAMED_VERBS.has(v));
    if (unnamed.length) {
      at([...p, 'verbs'], `${unnamed.map((v) => show(v)).join(', ')} cannot be restricted by resourceNames (the request carries no object name), so this rule would never allow it; move ${unnamed.join(', ')} to a rule of its own without resourceNames`);
    }
  }
}
