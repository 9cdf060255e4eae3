// WSGATE_HTTP_ALLOW: where httpRequest jobs and callbacks may connect. Names are matched by pattern before a
// request; the address a connection actually goes to is checked again (send.ts), so a name that resolves
// to a loopback, private, link-local or metadata address is refused unless an address entry covers it.
import net from 'node:net';

const HOSTNAME = /^(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The setting's entries, checked and lower-cased: `*`, `*.example.com`, `api.example.com`, an address, a CIDR. */
export function parseAllowList(text: string): string[] {
  const entries = text
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  for (const e of entries) {
    if (e === '*' || HOSTNAME.test(e) || net.isIP(unbracket(e)) || cidrOf(e)) continue;
    throw new Error(`"${e}" is not a host name, *.domain, *, an address or a CIDR`);
  }
  return [...new Set(entries)];
}

const unbracket = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

function cidrOf(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (!m) return null;
  const version = net.isIP(m[1]!);
  const prefix = Number(m[2]);
  if (!version || prefix > (version === 4 ? 32 : 128)) return null;
  return { address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Addresses no job or callback reaches unless an entry names them. */
const SPECIAL: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT (Alibaba's metadata service, 100.100.100.200)
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local (the cloud metadata service, 169.254.169.254)
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments (Oracle's metadata, 192.0.0.192)
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['fc00::', 7, 'ipv6'], // unique local (AWS's IPv6 metadata, fd00:ec2::254)
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
  ['64:ff9b::', 96, 'ipv6'], // NAT64: an IPv4 address inside
  ['2002::', 16, 'ipv6'], // 6to4: an IPv4 address inside
];

const special = new net.BlockList();
for (const [address, prefix, family] of SPECIAL) special.addSubnet(address, prefix, family);

/** `::ffff:127.0.0.1` is 127.0.0.1. */
function plain(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const a = unbracket(address).toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address: a, family: net.isIPv4(a) ? 'ipv4' : 'ipv6' };
}

export interface AllowList {
  /** False when the setting is empty: httpRequest and callbacks are off. */
  readonly on: boolean;
  /** The host of a URL (a name or an address literal) may be asked for. */
  hostAllowed(host: string): boolean;
  /** A connection may go to this address. */
  addressAllowed(address: string): boolean;
}

export function compileAllowList(entries: string[]): AllowList {
  const any = entries.includes('*');
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const listed = new net.BlockList();
  for (const e of entries) {
    const cidr = cidrOf(e);
    if (cidr) listed.addSubnet(cidr.address, cidr.prefix, cidr.family);
    else if (net.isIP(unbracket(e))) {
      const p = plain(e);
      listed.addAddress(p.address, p.family);
    } else if (e.startsWith('*.')) suffixes.push(e.slice(1));
    else if (e !== '*') exact.add(e);
  }
  const isListed = (address: string) => {
    const p = plain(address);
    return listed.check(p.address, p.family);
  };
  const addressAllowed = (address: string) => {
    if (!net.isIP(plain(address).address)) return false;
    if (isListed(address)) return true;
    const p = plain(address);
    return !special.check(p.address, p.family);
  };
  return {
    on: entries.length > 0,
    hostAllowed(host) {
      const h = unbracket(host.toLowerCase()).replace(/\.$/, '');
      if (net.isIP(h)) return isListed(h) || (any && addressAllowed(h));
      return any || exact.has(h) || suffixes.some((s) => h.endsWith(s));
    },
    addressAllowed,
  };
}
