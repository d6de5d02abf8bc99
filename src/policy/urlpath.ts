// Request-target normalisation for L7 checks. The proxy matches rules against the normalised
// path and forwards that same normalised path upstream, so the server never sees a path that
// is spelled differently from the one the policy was checked against.
//
// - percent-encoded unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded; other encodings
//   are kept, with upper-case hex
// - `.` segments are dropped, `..` segments remove their parent; a `..` that would climb above
//   the root is refused
// - empty segments (`//`) are collapsed, because many servers collapse them and a rule on
//   `/admin/**` must not be dodged with `//admin/`
// - encoded `/` (%2F) is refused unless the endpoint sets allow_encoded_slash; encoded `\`
//   and NUL are always refused, as are raw characters outside RFC 3986 `pchar`

export type NormalisedTarget =
  | { ok: true; path: string; rawQuery: string | null; query: Map<string, string[]> }
  | { ok: false; reason: string };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// pchar without `%` (handled separately), plus `/`.
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;

function decodeUnreserved(rawPath: string, allowEncodedSlash: boolean): string | { error: string } {
  let out = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i]!;
    if (ch !== '%') {
      if (!PATH_CHAR.test(ch)) return { error: `character ${JSON.stringify(ch)} is not allowed in a path` };
      out += ch;
      continue;
    }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { error: 'malformed percent-encoding in path' };
    const code = parseInt(hex, 16);
    const decoded = String.fromCharCode(code);
    i += 2;
    if (code === 0x2f) {
      if (!allowEncodedSlash) return { error: 'encoded slash (%2F) in path; set allow_encoded_slash on the endpoint to permit it' };
      out += '%2F';
    } else if (code === 0x5c) {
      return { error: 'encoded backslash (%5C) in path' };
    } else if (code === 0x00) {
      return { error: 'encoded NUL (%00) in path' };
    } else if (UNRESERVED.test(decoded)) {
      out += decoded;
    } else {
      out += `%${hex.toUpperCase()}`;
    }
  }
  return out;
}

function resolveSegments(path: string): string | { error: string } {
  const segments = path.split('/').slice(1);
  const stack: string[] = [];
  let trailingSlash = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    trailingSlash = false;
    if (seg === '' || seg === '.') {
      trailingSlash = last;
    } else if (seg === '..') {
      if (stack.length === 0) return { error: 'path climbs above the root with ..' };
      stack.pop();
      trailingSlash = last;
    } else {
      stack.push(seg);
    }
  }
  if (stack.length === 0) return '/';
  return `/${stack.join('/')}${trailingSlash ? '/' : ''}`;
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

  const decoded = decodeUnreserved(rawPath, allowEncodedSlash);
  if (typeof decoded !== 'string') return { ok: false, reason: decoded.error };
  const path = resolveSegments(decoded);
  if (typeof path !== 'string') return { ok: false, reason: path.error };

  if (rawQuery !== null && /[\u0000-\u0020\u007f-\uffff#]/.test(rawQuery)) {
    return { ok: false, reason: 'invalid character in query string' };
  }
  const query = parseQuery(rawQuery ?? '');
  if (!query) return { ok: false, reason: 'malformed percent-encoding in query string' };
  return { ok: true, path, rawQuery, query };
}

/**
 * The path with `;params` removed from every segment (`/a;x/b` -> `/a/b`). Java servlet
 * containers ignore such parameters when routing, so deny rules are also checked against this
 * form.
 */
export function stripMatrixParams(path: string): string {
  if (!path.includes(';')) return path;
  return path
    .split('/')
    .map((seg) => {
      const semi = seg.indexOf(';');
      return semi >= 0 ? seg.slice(0, semi) : seg;
    })
    .join('/');
}

/** The target to send upstream: normalised path plus the query exactly as received. */
export function targetToForward(t: { path: string; rawQuery: string | null }): string {
  return t.rawQuery === null ? t.path : `${t.path}?${t.rawQuery}`;
}
