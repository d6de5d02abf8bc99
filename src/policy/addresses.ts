// Addresses: IP parsing and CIDR arithmetic on byte arrays (no string tricks, so every textual
// form of an address — compressed IPv6, embedded IPv4, upper case — compares the same), the
// categories of non-public space, and the SSRF guard's check of resolved addresses against an
// endpoint's `allowed_ips`. The one place warden parses an IP address or a CIDR block.

import net from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

function parseIPv4Bytes(text: string): Uint8Array | null {
  if (!net.isIPv4(text)) return null;
  const parts = text.split('.').map((p) => Number(p));
  return Uint8Array.from(parts);
}

function parseIPv6Bytes(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const plain = zone >= 0 ? text.slice(0, zone) : text;
  if (!net.isIPv6(plain)) return null;

  let head = plain;
  let tail4: Uint8Array | null = null;
  const lastColon = plain.lastIndexOf(':');
  const maybeV4 = plain.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    tail4 = parseIPv4Bytes(maybeV4);
    if (!tail4) return null;
    // Replace the dotted tail with two placeholder groups, filled in below.
    head = plain.slice(0, lastColon + 1) + '0:0';
  }

  const halves = head.split('::');
  const toGroups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = toGroups(halves[0] ?? '');
  const right = halves.length > 1 ? toGroups(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 && missing !== 0) return null;
  const groups = [...left, ...new Array<number>(Math.max(missing, 0)).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;

  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tail4) bytes.set(tail4, 12);
  return bytes;
}

/** Parse an IPv4 or IPv6 literal (brackets and an IPv6 zone are tolerated); null if not one. */
export function parseIp(text: string): IpAddress | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const v4 = parseIPv4Bytes(t);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6Bytes(t);
  if (v6) return { family: 6, bytes: v6 };
  return null;
}

export function isIpLiteral(text: string): boolean {
  return parseIp(text) !== null;
}

/** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  // Longest run of zero groups (length >= 2) becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const ip = parseIp(addrText);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return { family: ip.family, bytes: ip.bytes, prefix };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (cidr.bytes[full]! & mask) === (ip.bytes[full]! & mask);
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

function v4(bytes: ArrayLike<number>): IpAddress {
  return { family: 4, bytes: Uint8Array.from(bytes) };
}

/** `::ffff:a.b.c.d` as the IPv4 address it stands for; otherwise the address unchanged. */
export function unmapIPv4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff) {
    return v4(ip.bytes.slice(12));
  }
  return ip;
}

/**
 * IPv4 addresses an IPv6 address carries and that routers may deliver to: IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16).
 */
export function embeddedIPv4(ip: IpAddress): IpAddress | null {
  if (ip.family !== 6) return null;
  const b = ip.bytes;
  const zeros = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 12)) return v4(b.slice(12));
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zeros(4, 12)) return v4(b.slice(12));
    if (b[4] === 0x00 && b[5] === 0x01) return v4(b.slice(12));
  }
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b.slice(2, 6));
  return null;
}

// ---------------------------------------------------------------------------------------------
// SSRF guard: classify every resolved address and refuse the ones that reach the host itself,
// the local network, cloud metadata or other non-public space, unless the endpoint names them
// in `allowed_ips`. The proxy then dials exactly the address that passed this check.

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

// Parsed on first use, not at load: `warden run` without a network never needs them, and
// parsing them is a noticeable part of its start-up.
let v4Ranges: Range[] | undefined;
let v6Ranges: Range[] | undefined;

const v4RangeTable = (): Range[] => v4Ranges ??= [
  range('0.0.0.0/8', 'unspecified'), // "this network": 0.0.0.0 reaches the local host on Linux
  range('127.0.0.0/8', 'loopback'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('100.64.0.0/10', 'cgnat'),
  range('169.254.0.0/16', 'link-local'), // includes 169.254.169.254, cloud metadata
  range('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  range('198.18.0.0/15', 'reserved'), // benchmarking
  range('192.0.2.0/24', 'reserved'), // TEST-NET-1 (documentation)
  range('198.51.100.0/24', 'reserved'), // TEST-NET-2 (documentation)
  range('203.0.113.0/24', 'reserved'), // TEST-NET-3 (documentation)
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
];

const v6RangeTable = (): Range[] => v6Ranges ??= [
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
  const ranges = ip.family === 4 ? v4RangeTable() : v6RangeTable();
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
 * matched (an address passes when one of them accepts it). When any of them has allowed_ips,
 * only those lists count: an overlapping endpoint without allowed_ips (public addresses) never
 * widens what allowed_ips admits, as in OpenShell. One refused address refuses the whole answer:
 * a name that mixes acceptable and internal addresses is treated as hostile (DNS rebinding).
 */
export function checkResolution(addresses: readonly string[], allowed: readonly AllowedIps[]): ResolutionCheck {
  if (addresses.length === 0) return { ok: false, address: '', category: null, reason: 'the name resolved to no address' };
  const restricted = allowed.filter((list) => list.restricted);
  const lists = restricted.length > 0 ? restricted : allowed.length > 0 ? allowed : [compileAllowedIps(undefined)];
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

// ---------------------------------------------------------------------------------------------
// Validating allowed_ips entries when a policy is loaded

/** True when the two blocks share at least one address. */
function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, { family: longer.family, bytes: longer.bytes });
}

/** A v4 block and the same block seen through IPv4-mapped IPv6 (::ffff:a.b.c.d). */
function withMapped(text: string): Cidr[] {
  const v4block = parseCidr(text)!;
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped.set(v4block.bytes, 12);
  return [v4block, { family: 6, bytes: mapped, prefix: 96 + v4block.prefix }];
}

let loopbackBlocks: Cidr[] | undefined;
const loopbackBlockTable = (): Cidr[] => loopbackBlocks ??= [...withMapped('127.0.0.0/8'), parseCidr('::1')!];
let neverAllowed: Array<{ blocks: Cidr[]; why: string; what: string }> | undefined;
const neverAllowedTable = (): Array<{ blocks: Cidr[]; why: string; what: string }> => neverAllowed ??= [
  {
    blocks: [...withMapped('169.254.0.0/16'), parseCidr('fe80::/10')!],
    why: 'link-local addresses (cloud metadata among them) can never be allowed',
    what: 'link-local, such as the cloud metadata service',
  },
  { blocks: [...withMapped('0.0.0.0/32'), parseCidr('::')!], why: 'the unspecified address can never be allowed', what: 'the unspecified address' },
];

/**
 * Security invariant: allowed_ips may open private ranges on purpose, but never link-local
 * (metadata services) or the unspecified address, and loopback only as one exact address
 * (so `0.0.0.0/0` or `127.0.0.0/8` cannot open the host's own services wholesale).
 */
export function allowedIpProblem(entry: string): string | undefined {
  const block = parseCidr(entry);
  if (!block || entry.trim() !== entry || /[%[\]]/.test(entry)) return 'expected an IP address or CIDR block such as 10.0.0.0/8';
  const single = block.prefix === (block.family === 4 ? 32 : 128);
  for (const rule of neverAllowedTable()) {
    if (!rule.blocks.some((never) => cidrOverlaps(never, block))) continue;
    return single ? rule.why : `"${entry}" overlaps addresses that can never be allowed (${rule.what})`;
  }
  if (!single && loopbackBlockTable().some((loopback) => cidrOverlaps(loopback, block))) {
    return 'loopback can be allowed only as one exact address (such as 127.0.0.1), not as a block';
  }
  return undefined;
}
