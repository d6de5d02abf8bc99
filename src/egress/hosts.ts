// Host names: normalisation and an index of endpoint host patterns that answers a lookup
// without scanning every rule.
//
//   example.com       exactly that name
//   *.example.com     exactly one more label (api.example.com, not a.b.example.com, not example.com)
//   **.example.com    one or more labels (api.example.com, a.b.example.com, not example.com)
//   other wildcards   (e.g. *-aiplatform.googleapis.com) label globs, checked one by one
//
// Matching is case-insensitive and ignores one trailing dot, on both sides.

import { HOST_GLOB, type Matcher, compileGlob, isGlob } from './glob.js';
import { formatIp, parseIp } from './ip.js';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

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
  if (host.length === 0 || host.length > 253) return null;
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
