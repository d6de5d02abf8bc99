// Request-target normalisation for L7 checks. The proxy matches rules against the normalised
// path and forwards that same normalised path upstream, so the server never sees a path that
// is spelled differently from the one the policy was checked against. The steps are OpenShell's
// (its l7/path.rs), so a rule means the same in both:
//
// - every percent-escape is decoded, then each byte outside RFC 3986 `pchar` is written back as
//   `%HH` (upper-case hex): `%61` becomes `a`, `%40` becomes `@`, `%3F` stays `%3F`
// - `;params` are cut from every segment *before* dot segments are resolved, so `..;x`, `..%3B`
//   and `%2e%2e;` act as `..` (servers that treat `;` as a separator would turn them into `..`)
//   and `/a;jsessionid=1/b` is `/a/b`, both for the rules and on the wire
// - `.` segments are dropped, `..` segments remove their parent; a `..` that would climb above
//   the root is refused
// - empty segments (`//`) are collapsed, because many servers collapse them and a rule on
//   `/admin/**` must not be dodged with `//admin/`
// - encoded `/` (%2F) is refused unless the endpoint sets allow_encoded_slash, and even then a
//   `.` or `..` hidden behind one (`..%2F`) is refused; control bytes (raw or encoded: NUL, CR,
//   LF, TAB, %7F...), encoded `\`, raw characters outside `pchar` and paths over 4096 bytes are
//   always refused

export type NormalisedTarget =
  | { ok: true; path: string; rawQuery: string | null; query: Map<string, string[]> }
  | { ok: false; reason: string };

/** OpenShell's limit on the path of a request-target. */
export const MAX_PATH_BYTES = 4096;
// pchar without `%` (handled separately), plus `/`.
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;
/** Bytes written as themselves in a normalised path: RFC 3986 pchar without `%`. */
const PCHAR = new Set(Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@", (c) => c.charCodeAt(0)));
/** Stands for a decoded `%2F` inside a segment (a control byte, which no decoded path keeps). */
const ENCODED_SLASH = 0x01;
const SLASH = 0x2f;
const SEMICOLON = 0x3b;
const DOT = 0x2e;

function isControl(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f;
}

/** The path as bytes, every escape decoded (a `%2F` as ENCODED_SLASH), or why it is refused. */
function decodePath(rawPath: string, allowEncodedSlash: boolean): number[] | { error: string } {
  const out: number[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i]!;
    if (ch !== '%') {
      if (isControl(ch.charCodeAt(0))) return { error: 'control character in path' };
      if (!PATH_CHAR.test(ch)) return { error: `character ${JSON.stringify(ch)} is not allowed in a path` };
      out.push(ch.charCodeAt(0));
      continue;
    }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { error: 'malformed percent-encoding in path' };
    const byte = parseInt(hex, 16);
    i += 2;
    if (byte === SLASH) {
      if (!allowEncodedSlash) return { error: 'encoded slash (%2F) in path; set allow_encoded_slash on the endpoint to permit it' };
      out.push(ENCODED_SLASH);
    } else if (byte === 0x00) {
      return { error: 'encoded NUL (%00) in path' };
    } else if (isControl(byte)) {
      return { error: `encoded control character (%${hex.toUpperCase()}) in path` };
    } else if (byte === 0x5c) {
      return { error: 'encoded backslash (%5C) in path' };
    } else {
      out.push(byte);
    }
  }
  return out;
}

function isDots(segment: readonly number[], n: 1 | 2): boolean {
  return segment.length === n && segment.every((b) => b === DOT);
}

/** Segments after `;params` are cut and dot segments resolved; `trailing` when the path ends in `/`. */
function resolveSegments(bytes: readonly number[]): { segments: number[][]; trailing: boolean } | { error: string } {
  const segments: number[][] = [[]];
  for (const byte of bytes.slice(1)) {
    if (byte === SLASH) segments.push([]);
    else segments[segments.length - 1]!.push(byte);
  }
  const stack: number[][] = [];
  let trailing = false;
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i]!;
    const semicolon = raw.indexOf(SEMICOLON);
    const seg = semicolon >= 0 ? raw.slice(0, semicolon) : raw;
    const last = i === segments.length - 1;
    trailing = false;
    if (isDots(seg, 2)) {
      if (stack.pop() === undefined) return { error: 'path climbs above the root with ..' };
      trailing = last;
    } else if (seg.length === 0 || isDots(seg, 1)) {
      trailing = last;
    } else {
      stack.push(seg);
    }
  }
  // A `.` or `..` kept inside a segment by an encoded slash (`..%2F`) would become a dot segment
  // for a server that decodes %2F before routing.
  for (const seg of stack) {
    const parts: number[][] = [[]];
    for (const byte of seg) {
      if (byte === ENCODED_SLASH) parts.push([]);
      else parts[parts.length - 1]!.push(byte);
    }
    if (parts.length > 1 && parts.some((part) => isDots(part, 1) || isDots(part, 2))) {
      return { error: 'a "." or ".." segment hidden behind an encoded slash (%2F) in path' };
    }
  }
  return { segments: stack, trailing };
}

function encodeSegment(segment: readonly number[]): string {
  let out = '';
  for (const byte of segment) {
    if (byte === ENCODED_SLASH) out += '%2F';
    else if (PCHAR.has(byte)) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Parse `a=1&b=2&a=3` into key -> values, decoding `+` as space and percent-escapes. */
export function parseQuery(rawQuery: string): Map<string, string[]> | null {
  const out = new Map<string, string[]>();
  if (rawQuery === '') return out;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq >= 0 ? pair.slice(0, eq) : pair;
    const rawValue = eq >= 0 ? pair.slice(eq + 1) : '';
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      return null;
    }
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** Normalise an origin-form request target (`/path?query`). */
export function normaliseTarget(target: string, allowEncodedSlash = false): NormalisedTarget {
  if (!target.startsWith('/')) return { ok: false, reason: 'request target must be an absolute path' };
  if (target.includes('#')) return { ok: false, reason: 'fragment in request target' };
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : null;

  if (Buffer.byteLength(rawPath) > MAX_PATH_BYTES) return { ok: false, reason: `path longer than ${MAX_PATH_BYTES} bytes` };
  const decoded = decodePath(rawPath, allowEncodedSlash);
  if (!Array.isArray(decoded)) return { ok: false, reason: decoded.error };
  const resolved = resolveSegments(decoded);
  if ('error' in resolved) return { ok: false, reason: resolved.error };
  const body = resolved.segments.map(encodeSegment).join('/');
  const path = body === '' ? '/' : `/${body}${resolved.trailing ? '/' : ''}`;

  if (rawQuery !== null && /[\u0000-\u0020\u007f-\uffff#]/.test(rawQuery)) {
    return { ok: false, reason: 'invalid character in query string' };
  }
  const query = parseQuery(rawQuery ?? '');
  if (!query) return { ok: false, reason: 'malformed percent-encoding in query string' };
  return { ok: true, path, rawQuery, query };
}

/** The target to send upstream: normalised path plus the query exactly as received. */
export function targetToForward(t: { path: string; rawQuery: string | null }): string {
  return t.rawQuery === null ? t.path : `${t.path}?${t.rawQuery}`;
}
