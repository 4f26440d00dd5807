/** How `npm run new-env` names the namespace and ingress host of a copied environment. */

/** `trading-staging` → `trading-qa`: the source's namespace with its environment part replaced. */
export function derivedNamespace(namespace: string, name: string): string {
  const cut = namespace.lastIndexOf('-');
  return `${cut > 0 ? namespace.slice(0, cut) : namespace}-${name}`.slice(0, 63).replace(/-+$/, '');
}

/** `api.staging.trading.example.com` → `api.qa.trading.example.com`, else `qa.<host>`. */
export function derivedHost(host: string, from: string, shortFrom: string, name: string): string {
  const labels = host.split('.');
  const at = labels.findIndex((l) => l === from || l === shortFrom);
  if (at >= 0) labels[at] = name;
  else labels.unshift(name);
  return labels.join('.');
}

/**
 * `aws-secrets-manager` → `aws-secrets-manager-qa`: a name of the whole cluster made the copy's own,
 * at most 63 characters (the source's part is cut, never the environment's).
 */
export function derivedName(source: string, name: string): string {
  const room = 63 - name.length - 1;
  return room > 0 ? `${source.slice(0, room).replace(/-+$/, '')}-${name}` : name.slice(0, 63);
}
