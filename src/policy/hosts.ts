// Host names, the one place they are parsed: destinations as a client names them
// (normaliseHost), endpoint host patterns as a policy writes them (normaliseEndpointHost), and an
// index of patterns that answers a lookup without scanning every rule.
//
//   example.com       exactly that name
//   *.example.com     exactly one more label (api.example.com, not a.b.example.com, not example.com)
//   **.example.com    one or more labels (api.example.com, a.b.example.com, not example.com)
//   other wildcards   (e.g. *-aiplatform.googleapis.com) label globs, checked one by one
//
// Matching is case-insensitive and ignores one trailing dot, on both sides. IP literals are
// written in one canonical form (addresses.ts), so every spelling of an address matches the same.

import { formatIp, parseIp } from './addresses.js';
import { HOST_GLOB, type Matcher, compileGlob, isGlob } from './glob.js';

const MAX_HOST_LENGTH = 253;

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** `*`, `**`, or one `*` inside a label of letters, digits, "-" and "_" (`*-aiplatform`, `api-*`). */
const WILDCARD_FIRST_LABEL = /^(?:\*\*?|[a-z0-9_-]*\*[a-z0-9_-]*)$/;
const WILDCARD_FORMS = 'a wildcard may be the first label ("*.example.com", "**.example.com"), one "*" inside the first label ("*-api.example.com"), or, after a wildcard first label, a whole later label ("*.s3.*.amazonaws.com"); the last two labels are always literal';

/**
 * Canonical form of a destination host, or null when it is not a valid DNS name or IP literal.
 * IPv6 literals may come with brackets; they are returned without.
 */
export function normaliseHost(raw: string): string | null {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const ip = parseIp(host.slice(1, -1));
    return ip && ip.family === 6 ? formatIp(ip) : null;
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > MAX_HOST_LENGTH) return null;
  const ip = parseIp(host);
  if (ip) {
    // A zone id (fe80::1%eth0) names an interface of the proxy's host: never a destination.
    if (host.includes('%')) return null;
    return formatIp(ip);
  }
  const labels = host.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  return host;
}

/**
 * Validates and normalises an endpoint host as a policy writes it: case-folded, trailing dot
 * removed, IP literals in canonical form without brackets. Wildcards as OpenShell's providers use
 * them: the first label may be `*` (exactly one label), `**` (any depth) or contain one `*`
 * (`*-aiplatform`, never crossing a dot); after a wildcard first label, a later label may be a
 * whole `*` (`*.s3.*.amazonaws.com`). The last two labels are always literal. Returns the host,
 * or why it is refused.
 */
export function normaliseEndpointHost(raw: string): { host: string } | { error: string } {
  if (raw.trim() !== raw || raw === '') return { error: 'expected a host name without spaces' };
  let host = raw.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const ip = parseIp(host.slice(1, -1));
    return ip?.family === 6 && !host.includes('%') ? { host: formatIp(ip) } : { error: 'expected an IPv6 address inside [ ]' };
  }
  const ip = parseIp(host);
  if (ip && !host.includes('%')) return { host: formatIp(ip) };
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (/[^\x20-\x7e]/.test(host)) return { error: 'expected an ASCII host name: write internationalised names in their punycode (xn--) form' };
  if (host === '*' || host === '**') {
    return { error: 'a bare wildcard would allow every host: name the hosts, or use *.example.com / **.example.com' };
  }
  if (host.length > MAX_HOST_LENGTH) return { error: `expected a host name of at most ${MAX_HOST_LENGTH} characters` };
  const [first = '', ...after] = host.split('.');
  const wildcard = first.includes('*');
  if (wildcard && !WILDCARD_FIRST_LABEL.test(first)) return { error: WILDCARD_FORMS };
  if (after.some((label) => label.includes('*') && (!wildcard || label !== '*'))) return { error: WILDCARD_FORMS };
  const literal = wildcard ? after : [first, ...after];
  if (literal.some((label) => label !== '*' && !LABEL.test(label))) {
    return { error: 'expected a host name made of labels of letters, digits, "-" and "_"' };
  }
  if (literal.length > 0 && literal.every((label) => /^\d+$/.test(label))) return { error: 'expected a valid IP address or host name' };
  if (wildcard && after.length < 2) {
    const example = first === '*' || first === '**' ? `${first}.example.${after[0] ?? 'com'}` : '*-api.example.com';
    return { error: `"${host}" covers a whole top-level domain: a wildcard needs at least two labels after it, as in "${example}"` };
  }
  if (after.slice(-2).includes('*')) return { error: WILDCARD_FORMS };
  return { host };
}

/**
 * Names for "a service on the host warden runs on": OpenShell's host gateway, and warden's own
 * name for it. They resolve to the host's loopback without DNS, so like any loopback address they
 * are reachable only through an endpoint whose allowed_ips names 127.0.0.1 exactly.
 */
export const HOST_GATEWAY_NAMES: readonly string[] = ['host.openshell.internal', 'host.warden.internal'];
export const HOST_GATEWAY_ADDRESS = '127.0.0.1';

/** The addresses a host-gateway name stands for, or undefined for any other name. */
export function hostGatewayAddresses(host: string): string[] | undefined {
  return HOST_GATEWAY_NAMES.includes(host) ? [HOST_GATEWAY_ADDRESS] : undefined;
}

/** How an endpoint's host is shown in messages: the pattern, or for a hostless one what it covers. */
export function endpointHost(endpoint: { host?: string; allowed_ips?: readonly string[] }): string {
  return endpoint.host ?? `(any host in ${(endpoint.allowed_ips ?? []).join(', ')})`;
}

/** Canonical form of an endpoint host pattern (wildcards kept). */
export function normaliseHostPattern(raw: string): string {
  let p = raw.trim().toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (!isGlob(p)) return normaliseHost(p) ?? p;
  return p;
}

const NONE: readonly never[] = Object.freeze([]);

export class HostIndex<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly oneLabel = new Map<string, T[]>();
  private readonly anyDepth = new Map<string, T[]>();
  private readonly globs: Array<{ match: Matcher; value: T }> = [];

  add(pattern: string, value: T): void {
    const p = normaliseHostPattern(pattern);
    if (p.startsWith('**.') && !isGlob(p.slice(3))) return push(this.anyDepth, p.slice(3), value);
    if (p.startsWith('*.') && !isGlob(p.slice(2))) return push(this.oneLabel, p.slice(2), value);
    if (isGlob(p)) {
      this.globs.push({ match: compileGlob(p, HOST_GLOB), value });
      return;
    }
    push(this.exact, p, value);
  }

  /** Every value whose pattern matches `host` (already normalised with normaliseHost). */
  lookup(host: string): readonly T[] {
    let out: T[] | undefined;
    const add = (list: T[] | undefined): void => {
      if (!list) return;
      out = out ? out.concat(list) : list;
    };
    add(this.exact.get(host));
    const firstDot = host.indexOf('.');
    if (firstDot > 0) {
      if (this.oneLabel.size > 0) add(this.oneLabel.get(host.slice(firstDot + 1)));
      if (this.anyDepth.size > 0) {
        // Every proper suffix that starts after a dot: at most one lookup per label.
        for (let dot = firstDot; dot >= 0; dot = host.indexOf('.', dot + 1)) {
          add(this.anyDepth.get(host.slice(dot + 1)));
        }
      }
    }
    for (const g of this.globs) if (g.match(host)) add([g.value]);
    return out ?? NONE;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
