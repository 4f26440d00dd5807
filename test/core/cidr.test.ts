import { canonicalCidr, embeddedIpv4, parseCidr, wideCidrs } from '../../core/cidr';

const embeds = (cidr: string) => embeddedIpv4(parseCidr(cidr)!).map((e) => `${canonicalCidr(e.cidr)} ${e.via}`);

describe('IPv6 blocks that embed IPv4 addresses', () => {
  it('reads the IPv4 addresses where each translation puts them', () => {
    expect(embeds('::ffff:c000:200/120')).toEqual(['192.0.2.0/24 IPv4-mapped']);
    expect(embeds('64:ff9b::cb00:7100/120')).toEqual(['203.0.113.0/24 NAT64']);
    expect(embeds('2002:c000:204::/48')).toEqual(['192.0.2.4/32 6to4']);
    expect(embeds('2002:c000::/24')).toEqual(['192.0.0.0/8 6to4']);
    // RFC 4380's example: the client 192.0.2.45, bit-inverted in the last 32 bits
    expect(embeds('2001:0:4136:e378:8000:63bf:3fff:fdd2/128')).toEqual(['192.0.2.45/32 Teredo']);
    // a local-use NAT64 block is read as /96 prefixes, the reading under which it embeds the most
    expect(embeds('64:ff9b:1:2::/64')).toEqual(['0.0.0.0/0 local-use NAT64']);
  });

  it('gives all of IPv4 for a block that contains a translation prefix, and nothing for other IPv6 space', () => {
    expect(embeds('::/64')).toEqual(['0.0.0.0/0 IPv4-mapped', '0.0.0.0/0 IPv4-compatible']);
    expect(embeds('2001:db8::/32')).toEqual([]);
    expect(embeds('203.0.113.0/24')).toEqual([]);
  });

  it('leaves IPv6 blocks that embed a narrow IPv4 range alone, and counts them towards the IPv4 total', () => {
    expect(wideCidrs(['64:ff9b::cb00:7100/120', '203.0.113.0/24', '2001:db8::/48'])).toEqual([]);
    expect(wideCidrs(['::ffff:300:0/104', '::ffff:400:0/104']).map((w) => w.message)).toEqual([
      '::ffff:300:0/104 (embeds 3.0.0.0/8), ::ffff:400:0/104 (embeds 4.0.0.0/8) together cover more public addresses than one /8 (the widest IPv4 range allowed without a reason)',
    ]);
  });
});
