// Endpoint hosts and allowed_ips entries: what is accepted, in what normal form, and which
// address ranges a policy can never open.

import { isIP } from 'node:net';

const MAX_HOST_LENGTH = 253;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Validates and normalises an endpoint host: case-folded, trailing dot removed, IPv6
 * brackets removed. Wildcards only as a whole leading label: `*.` (exactly one label) or
 * `**.` (any depth). Returns the normalised host, or the reason it is refused.
 */
export function normaliseHost(raw: string): { host: string } | { error: string } {
  if (raw.trim() !== raw || raw === '') return { error: 'expected a host name without spaces' };
  let host = raw.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    return isIP(inner) === 6 ? { host: inner } : { error: 'expected an IPv6 address inside [ ]' };
  }
  if (isIP(host) !== 0) return { host };
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (/[^\x20-\x7e]/.test(host)) return { error: 'expected an ASCII host name: write internationalised names in their punycode (xn--) form' };
  if (host === '*' || host === '**') {
    return { error: 'a bare wildcard would allow every host: name the hosts, or use *.example.com / **.example.com' };
  }
  const wildcard = /^(\*\*?)\.(.*)$/.exec(host);
  const rest = wildcard ? wildcard[2] ?? '' : host;
  if (rest.includes('*')) return { error: 'a wildcard is allowed only as the whole first label: "*.example.com" or "**.example.com"' };
  if (host.length > MAX_HOST_LENGTH) return { error: `expected a host name of at most ${MAX_HOST_LENGTH} characters` };
  const labels = rest.split('.');
  if (labels.some((label) => !LABEL.test(label))) {
    return { error: 'expected a host name made of labels of letters, digits, "-" and "_"' };
  }
  if (labels.every((label) => /^\d+$/.test(label))) return { error: 'expected a valid IP address or host name' };
  if (wildcard && labels.length < 2) {
    return { error: `"${host}" covers a whole top-level domain: a wildcard needs at least two labels after it, as in "${wildcard[1]}.example.${labels[0]}"` };
  }
  return { host };
}

// ---------------------------------------------------------------------------------------------
// Addresses for allowed_ips

interface Range { version: 4 | 6; first: bigint; last: bigint; single: boolean }

function ipToBigInt(address: string): { version: 4 | 6; value: bigint } | undefined {
  const version = isIP(address);
  if (version === 4) {
    return { version: 4, value: address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n) };
  }
  if (version !== 6) return undefined;
  let head = address;
  let tail4: bigint | undefined;
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) {
    tail4 = ipToBigInt(dotted[1])?.value;
    head = address.slice(0, -dotted[1].length) + '0:0';
  }
  const [left = '', right] = head.split('::');
  const leftParts = left === '' ? [] : left.split(':');
  const rightParts = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftParts.length - rightParts.length;
  const groups = [...leftParts, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightParts];
  let value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4;
  return { version: 6, value };
}

function parseRange(entry: string): Range | undefined {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const ip = ipToBigInt(address);
  if (!ip) return undefined;
  const bits = ip.version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const first = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, first, last: first + (1n << hostBits) - 1n, single: prefix === bits };
}

function overlaps(a: Range, b: Range): boolean {
  return a.version === b.version && a.first <= b.last && b.first <= a.last;
}

const MAPPED_V4 = 0xffff00000000n;
function v4Block(first: string, prefix: number): Range[] {
  const v4 = parseRange(`${first}/${prefix}`)!;
  // The same block seen through IPv4-mapped IPv6 (::ffff:a.b.c.d).
  return [v4, { version: 6, first: MAPPED_V4 | v4.first, last: MAPPED_V4 | v4.last, single: v4.single }];
}
const LOOPBACK = [...v4Block('127.0.0.0', 8), parseRange('::1')!];
const NEVER_ALLOWED: Array<{ ranges: Range[]; why: string; what: string }> = [
  {
    ranges: [...v4Block('169.254.0.0', 16), parseRange('fe80::/10')!],
    why: 'link-local addresses (cloud metadata among them) can never be allowed',
    what: 'link-local, such as the cloud metadata service',
  },
  { ranges: [...v4Block('0.0.0.0', 32), parseRange('::')!], why: 'the unspecified address can never be allowed', what: 'the unspecified address' },
];

/**
 * Security invariant: allowed_ips may open private ranges on purpose, but never link-local
 * (metadata services) or the unspecified address, and loopback only as one exact address
 * (so `0.0.0.0/0` or `127.0.0.0/8` cannot open the host's own services wholesale).
 */
export function allowedIpProblem(entry: string): string | undefined {
  const range = parseRange(entry);
  if (!range) return 'expected an IP address or CIDR block such as 10.0.0.0/8';
  for (const rule of NEVER_ALLOWED) {
    if (!rule.ranges.some((r) => overlaps(r, range))) continue;
    return range.single ? rule.why : `"${entry}" overlaps addresses that can never be allowed (${rule.what})`;
  }
  if (LOOPBACK.some((r) => overlaps(r, range)) && !range.single) {
    return 'loopback can be allowed only as one exact address (such as 127.0.0.1), not as a block';
  }
  return undefined;
}
