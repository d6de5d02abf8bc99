// SSRF guard: classify every resolved address and refuse the ones that reach the host itself,
// the local network, cloud metadata or other non-public space, unless the endpoint names them
// in `allowed_ips`. The proxy then dials exactly the address that passed this check.

import { type Cidr, type IpAddress, cidrContains, embeddedIPv4, formatIp, ipEquals, parseCidr, parseIp, unmapIPv4 } from './ip.js';

export type AddressCategory =
  | 'loopback'
  | 'unspecified'
  | 'link-local'
  | 'private'
  | 'cgnat'
  | 'unique-local'
  | 'multicast'
  | 'reserved';

interface Range {
  cidr: Cidr;
  category: AddressCategory;
}

function range(text: string, category: AddressCategory): Range {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return { cidr, category };
}

const V4_RANGES: Range[] = [
  range('0.0.0.0/8', 'unspecified'), // "this network": 0.0.0.0 reaches the local host on Linux
  range('127.0.0.0/8', 'loopback'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('100.64.0.0/10', 'cgnat'),
  range('169.254.0.0/16', 'link-local'), // includes 169.254.169.254, cloud metadata
  range('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  range('198.18.0.0/15', 'reserved'), // benchmarking
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
];

const V6_RANGES: Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'private'), // deprecated site-local, still routed by some stacks
  range('fc00::/7', 'unique-local'),
  range('ff00::/8', 'multicast'),
  range('100::/64', 'reserved'), // discard-only
  range('2001::/32', 'reserved'), // Teredo: the IPv4 inside is obfuscated, so refuse outright
];

function classifyPlain(ip: IpAddress): AddressCategory | null {
  const ranges = ip.family === 4 ? V4_RANGES : V6_RANGES;
  for (const r of ranges) if (cidrContains(r.cidr, ip)) return r.category;
  return null;
}

/**
 * The category of a non-public address, or null for a public one. IPv6 forms that carry an
 * IPv4 address (mapped, compatible, NAT64, 6to4) take the category of that IPv4 address.
 */
export function classifyAddress(address: string | IpAddress): AddressCategory | null {
  const ip = typeof address === 'string' ? parseIp(address) : address;
  if (!ip) return 'reserved';
  const plain = unmapIPv4(ip);
  const own = classifyPlain(plain);
  if (own) return own;
  const inner = embeddedIPv4(plain);
  return inner ? classifyPlain(inner) : null;
}

export interface AllowedIps {
  /** False when the endpoint has no allowed_ips: public addresses only. */
  restricted: boolean;
  entries: Array<{ text: string; cidr: Cidr; exact: boolean }>;
}

/** Compile an endpoint's `allowed_ips` (CIDR or exact); unparsable entries allow nothing. */
export function compileAllowedIps(list: readonly string[] | undefined): AllowedIps {
  const entries: AllowedIps['entries'] = [];
  for (const text of list ?? []) {
    const cidr = parseCidr(text.trim());
    if (!cidr) continue;
    const exact = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    entries.push({ text, cidr: normaliseCidr(cidr), exact });
  }
  return { restricted: (list ?? []).length > 0, entries };
}

function normaliseCidr(cidr: Cidr): Cidr {
  // ::ffff:a.b.c.d/128 written in an allow list means the IPv4 address.
  if (cidr.family === 6 && cidr.prefix === 128) {
    const plain = unmapIPv4({ family: 6, bytes: cidr.bytes });
    if (plain.family === 4) return { family: 4, bytes: plain.bytes, prefix: 32 };
  }
  return cidr;
}

export type AddressCheck =
  | { ok: true; address: string; category: AddressCategory | null; allowedBy?: string }
  | { ok: false; address: string; category: AddressCategory | null; reason: string };

/** Categories no allowed_ips entry can open: they reach the host itself or cloud metadata. */
const NEVER: ReadonlySet<AddressCategory> = new Set(['unspecified', 'link-local']);

/**
 * Check one resolved address against the built-in ranges and one endpoint's allow list.
 *
 * - without allowed_ips: public addresses only;
 * - with allowed_ips: only addresses the list covers (it restricts as well as opens);
 * - loopback only through an entry naming that exact address, never through a block;
 * - link-local (cloud metadata) and unspecified addresses never.
 */
export function checkAddress(address: string, allowed: AllowedIps): AddressCheck {
  const ip = parseIp(address);
  if (!ip) return { ok: false, address, category: 'reserved', reason: `${address} is not an IP address` };
  const plain = unmapIPv4(ip);
  const text = formatIp(plain);
  const category = classifyAddress(plain);
  if (category !== null && NEVER.has(category)) {
    const why = category === 'link-local' ? 'link-local (cloud metadata lives there)' : 'unspecified (it reaches the local host)';
    return { ok: false, address: text, category, reason: `${text} is ${why}; never allowed` };
  }
  if (!allowed.restricted) {
    if (category === null) return { ok: true, address: text, category };
    return { ok: false, address: text, category, reason: `${text} is a ${category} address; allowed only when the endpoint's allowed_ips covers it` };
  }

  const subjects = [plain];
  const inner = embeddedIPv4(plain);
  if (inner) subjects.push(inner);
  const entry =
    category === 'loopback'
      ? allowed.entries.find((e) => e.exact && subjects.some((s) => ipEquals(s, { family: e.cidr.family, bytes: e.cidr.bytes })))
      : allowed.entries.find((e) => subjects.some((s) => cidrContains(e.cidr, s)));
  if (entry) return { ok: true, address: text, category, allowedBy: entry.text };
  const reason =
    category === 'loopback'
      ? `${text} is a loopback address; allowed only when the endpoint's allowed_ips names ${text} exactly`
      : `${text} is not in the endpoint's allowed_ips`;
  return { ok: false, address: text, category, reason };
}

export type ResolutionCheck =
  | { ok: true; addresses: string[] }
  | { ok: false; address: string; category: AddressCategory | null; reason: string };

/**
 * Check every address a name resolved to, against the allow lists of the endpoints that
 * matched (an address passes when one of them accepts it). One refused address refuses the
 * whole answer: a name that mixes acceptable and internal addresses is treated as hostile
 * (DNS rebinding).
 */
export function checkResolution(addresses: readonly string[], allowed: readonly AllowedIps[]): ResolutionCheck {
  if (addresses.length === 0) return { ok: false, address: '', category: null, reason: 'the name resolved to no address' };
  const lists = allowed.length > 0 ? allowed : [compileAllowedIps(undefined)];
  const ok: string[] = [];
  for (const a of addresses) {
    let refusal: AddressCheck | null = null;
    let passed: string | null = null;
    for (const list of lists) {
      const r = checkAddress(a, list);
      if (r.ok) {
        passed = r.address;
        break;
      }
      refusal ??= r;
    }
    if (passed === null) return refusal as ResolutionCheck;
    if (!ok.includes(passed)) ok.push(passed);
  }
  return { ok: true, addresses: ok };
}
