/**
 * IPv4 and IPv6 addresses and CIDR blocks, as NetworkPolicy `ipBlock`s use them. Addresses are
 * held as bigints so that both families share one code path.
 */

export interface Cidr {
  readonly family: 4 | 6;
  /** The address part as written, as a number. */
  readonly address: bigint;
  readonly prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  if (/^[0-9.]+$/.test(text)) {
    const parts = text.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** Parses `a.b.c.d/n` or `x::/n`; undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const [ip, prefixText, extra] = text.split('/');
  if (extra !== undefined || prefixText === undefined || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const parsed = parseIp(ip);
  const prefix = Number(prefixText);
  if (!parsed || prefix > BITS[parsed.family]) return undefined;
  return { family: parsed.family, address: parsed.value, prefix };
}

function mask(cidr: Cidr): bigint {
  const bits = BigInt(BITS[cidr.family]);
  const host = bits - BigInt(cidr.prefix);
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n);
}

/** The network address of a CIDR (host bits cleared). */
export function networkOf(cidr: Cidr): bigint {
  return cidr.address & mask(cidr);
}

export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((value >> s) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes '::'
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/** The canonical spelling of a CIDR: its network address and prefix. */
export function canonicalCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, networkOf(cidr))}/${cidr.prefix}`;
}

/** Whether `ip` lies inside `cidr` (false across families or for unparsable input). */
export function cidrContains(cidr: string, ip: string): boolean {
  const block = parseCidr(cidr);
  const address = parseIp(ip);
  if (!block || !address || block.family !== address.family) return false;
  return (address.value & mask(block)) === networkOf(block);
}

/** Whether a block covers every address of its family (0.0.0.0/0, ::/0). */
export function isWholeInternet(cidr: string): boolean {
  return parseCidr(cidr)?.prefix === 0;
}

/**
 * How wide a block may be before it needs a declared reason: no single block shorter than a /8
 * (IPv4, 16.7 million addresses, the largest block a regional registry ever handed out to one
 * organisation) or a /32 (IPv6, a whole ISP's allocation), and no peer whose blocks together
 * cover more public addresses than one such block. Private and special-purpose ranges
 * (RFC 1918, CGNAT, loopback, link-local, IPv6 ULA) do not count towards the total, so a
 * cluster-internal 10.0.0.0/8 next to a few public /24s stays allowed.
 */
export const WIDEST_PREFIX = { 4: 8, 6: 32 } as const;

/** Address space that is not the public internet: it does not count towards the public total. */
const NON_PUBLIC = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

type Range = [bigint, bigint];

function rangeOf(cidr: Cidr): Range {
  const start = networkOf(cidr);
  return [start, start + (1n << BigInt(BITS[cidr.family] - cidr.prefix))];
}

/** Sorted, disjoint half-open ranges covering the same addresses. */
function merge(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const [s, e] of [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = e > last[1] ? e : last[1];
    else out.push([s, e]);
  }
  return out;
}

/** NON_PUBLIC as merged ranges, per family (parsed once). */
const NON_PUBLIC_RANGES = {
  4: merge(
    NON_PUBLIC.map((t) => parseCidr(t)!)
      .filter((c) => c.family === 4)
      .map(rangeOf),
  ),
  6: merge(
    NON_PUBLIC.map((t) => parseCidr(t)!)
      .filter((c) => c.family === 6)
      .map(rangeOf),
  ),
} as const;

function sizeOf(ranges: Range[]): bigint {
  return ranges.reduce((n, [s, e]) => n + (e - s), 0n);
}

function subtract(ranges: Range[], holes: Range[]): Range[] {
  let out = ranges;
  for (const [hs, he] of holes) {
    out = out.flatMap(([s, e]): Range[] => {
      if (he <= s || hs >= e) return [[s, e]];
      return [...(s < hs ? [[s, hs] as Range] : []), ...(he < e ? [[he, e] as Range] : [])];
    });
  }
  return out;
}

/**
 * IPv6 prefixes whose addresses carry an IPv4 address, and where: a NetworkPolicy block inside
 * one of them reaches, through a translator or relay, the IPv4 addresses it embeds, so it is
 * judged by them (`::ffff:0:0/96` is all of IPv4). `shift` is the position of the IPv4 field's
 * lowest bit. The local-use NAT64 prefix (RFC 8215) may hold network-specific prefixes of any
 * RFC 6052 length; it is read as /96 ones, the reading under which its blocks embed the most.
 */
const IPV4_EMBEDDING = (
  [
    { prefix: '::ffff:0:0/96', name: 'IPv4-mapped', shift: 0n },
    { prefix: '::/96', name: 'IPv4-compatible', shift: 0n },
    { prefix: '64:ff9b::/96', name: 'NAT64', shift: 0n },
    { prefix: '64:ff9b:1::/48', name: 'local-use NAT64', shift: 0n },
    { prefix: '2002::/16', name: '6to4', shift: 80n },
    // the client's address, bit-inverted, in the last 32 bits (RFC 4380)
    { prefix: '2001::/32', name: 'Teredo', shift: 0n, inverted: true },
  ] as Array<{ prefix: string; name: string; shift: bigint; inverted?: boolean }>
).map((e) => ({ ...e, range: parseCidr(e.prefix)! }));

const IPV4_ALL = (1n << 32n) - 1n;

function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    (networkOf(inner) & mask(outer)) === networkOf(outer)
  );
}

/** The IPv4 blocks an IPv6 block embeds (none for IPv4 blocks and for IPv6 space that embeds nothing). */
export function embeddedIpv4(cidr: Cidr): Array<{ readonly cidr: Cidr; readonly via: string }> {
  if (cidr.family !== 6) return [];
  const out: Array<{ cidr: Cidr; via: string }> = [];
  for (const e of IPV4_EMBEDDING) {
    const range = e.range;
    if (contains(cidr, range)) {
      out.push({ cidr: { family: 4, address: 0n, prefix: 0 }, via: e.name });
    } else if (contains(range, cidr)) {
      // the IPv4 field occupies bits [shift, shift + 32) counted from the lowest
      const fieldTop = 128 - Number(e.shift) - 32;
      const prefix = Math.min(32, Math.max(0, cidr.prefix - fieldTop));
      const field = (networkOf(cidr) >> e.shift) & IPV4_ALL;
      const block: Cidr = { family: 4, address: e.inverted ? ~field & IPV4_ALL : field, prefix };
      out.push({ cidr: { ...block, address: networkOf(block) }, via: e.name });
    }
  }
  return out;
}

/** Why a set of blocks is too wide to allow without a reason; one entry per problem. */
export interface WideCidr {
  /** Index of the single block that is too wide; undefined when the blocks together are. */
  readonly index?: number;
  readonly message: string;
}

/**
 * The blocks that open too much (one peer's, or everything a service may reach): a single
 * block wider than WIDEST_PREFIX, blocks that together cover a whole address family
 * (0.0.0.0/1 + 128.0.0.0/1), or together more public addresses than one block of
 * WIDEST_PREFIX. An IPv6 block that embeds IPv4 addresses (IPv4-mapped, NAT64, 6to4, ...) is
 * judged as the IPv4 blocks it embeds too. Unparsable blocks are ignored (reported elsewhere).
 */
export function wideCidrs(cidrs: readonly string[]): WideCidr[] {
  const out: WideCidr[] = [];
  const parsed = cidrs.map(parseCidr);
  const embedded = parsed.map((c) => (c ? embeddedIpv4(c) : []));
  const tooWide = (c: Cidr) =>
    c.prefix === 0
      ? 'opens the whole internet'
      : `is wider than a /${WIDEST_PREFIX[c.family]} (the widest ${c.family === 4 ? 'IPv4' : 'IPv6'} block allowed without a reason)`;
  parsed.forEach((c, index) => {
    if (!c) return;
    if (c.prefix < WIDEST_PREFIX[c.family]) {
      out.push({ index, message: `${cidrs[index]} ${tooWide(c)}` });
      return;
    }
    const wide = embedded[index].find((e) => e.cidr.prefix < WIDEST_PREFIX[4]);
    if (wide) {
      const what = wide.cidr.prefix === 0 ? 'opens the whole IPv4 internet' : tooWide(wide.cidr);
      out.push({
        index,
        message: `${cidrs[index]} embeds ${canonicalCidr(wide.cidr)} (${wide.via} addresses), which ${what}`,
      });
    }
  });
  if (out.length) return out;
  for (const family of [4, 6] as const) {
    const blocks: Cidr[] = [];
    const names: string[] = [];
    parsed.forEach((c, i) => {
      if (c?.family === family) {
        blocks.push(c);
        names.push(cidrs[i]);
      }
      if (family === 4) {
        for (const e of embedded[i]) {
          blocks.push(e.cidr);
          names.push(`${cidrs[i]} (embeds ${canonicalCidr(e.cidr)})`);
        }
      }
    });
    if (blocks.length < 2) continue;
    const covered = merge(blocks.map(rangeOf));
    const all = 1n << BigInt(BITS[family]);
    const list = names.join(', ');
    if (sizeOf(covered) === all) {
      out.push({ message: `${list} together cover the whole ${family === 4 ? 'IPv4' : 'IPv6'} internet` });
      continue;
    }
    const holes = NON_PUBLIC_RANGES[family];
    const bound = 1n << BigInt(BITS[family] - WIDEST_PREFIX[family]);
    if (sizeOf(subtract(covered, holes)) > bound) {
      out.push({
        message: `${list} together cover more public addresses than one /${WIDEST_PREFIX[family]} (the widest ${family === 4 ? 'IPv4' : 'IPv6'} range allowed without a reason)`,
      });
    }
  }
  return out;
}

/** Whether every address of `cidr` lies inside `block` (false across families or for unparsable input). */
export function cidrInside(cidr: string, block: string): boolean {
  const c = parseCidr(cidr);
  const b = parseCidr(block);
  return !!c && !!b && contains(b, c);
}

/** An address inside a CIDR: `offset` from the network address (negative counts from the end). */
export function addressIn(cidr: string, offset: number): string {
  const block = parseCidr(cidr);
  if (!block) throw new Error(`not a CIDR: ${cidr}`);
  const size = 1n << BigInt(BITS[block.family] - block.prefix);
  const index = offset >= 0 ? BigInt(offset) : size + BigInt(offset);
  if (index < 0n || index >= size) throw new Error(`${cidr} has no address at offset ${offset}`);
  return formatIp(block.family, networkOf(block) + index);
}
