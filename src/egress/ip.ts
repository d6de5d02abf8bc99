// IP address parsing and CIDR arithmetic on byte arrays (no string tricks, so every textual
// form of an address — compressed IPv6, embedded IPv4, upper case — compares the same).

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
