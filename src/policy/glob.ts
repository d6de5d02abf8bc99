// Segment-aware glob matching, compiled once to a RegExp.
//
//   *   any run of characters inside one segment (never crosses the separator)
//   ?   one character inside one segment
//   **  as a whole segment: any number of whole segments (see `globstar` below);
//       inside a segment (e.g. `foo**`): any run of characters, separators included
//
// Everything else is literal. There are no character classes or brace sets: a policy that
// needs them is clearer as two rules.

export type Matcher = (value: string) => boolean;

export interface GlobOptions {
  /** Segment separator; null means the value has no segments (`*` then matches anything). */
  sep: '/' | '.' | null;
  /**
   * Whether a whole-segment `**` may match zero segments. True for paths (`/a/**\/b` matches
   * `/a/b`); false for host labels (`foo.**.com` needs at least one label in between).
   */
  globstarMayBeEmpty: boolean;
}

const PATH: GlobOptions = { sep: '/', globstarMayBeEmpty: true };

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escapeLiteral(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

/** True when the pattern contains a wildcard at all. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Translate one segment (no separators inside) to regex source. */
function segmentSource(segment: string, sep: string | null): string {
  const oneChar = sep === null ? '.' : `[^${escapeLiteral(sep)}]`;
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') {
      if (segment[i + 1] === '*') {
        out += '.*';
        while (segment[i + 1] === '*') i++;
      } else {
        out += `${oneChar}*`;
      }
    } else if (ch === '?') {
      out += oneChar;
    } else {
      out += escapeLiteral(ch);
    }
  }
  return out;
}

export function globToRegExp(pattern: string, options: GlobOptions = PATH): RegExp {
  const { sep } = options;
  if (sep === null) return new RegExp(`^${segmentSource(pattern, null)}$`, 's');

  const s = escapeLiteral(sep);
  const some = options.globstarMayBeEmpty ? '*' : '+';
  const parts = pattern.split(sep);
  if (parts.length === 1 && parts[0] === '**') return /^.*$/s;

  let source = '';
  // When a leading `**` already consumed the separator, the next segment must not add one.
  let skipNextSeparator = false;
  parts.forEach((part, i) => {
    const first = i === 0;
    const last = i === parts.length - 1;
    const sepPrefix = first || skipNextSeparator ? '' : s;
    skipNextSeparator = false;
    if (part !== '**') {
      source += sepPrefix + segmentSource(part, sep);
      return;
    }
    if (first) {
      // `**/x`: zero or more leading segments, each followed by the separator.
      source += options.globstarMayBeEmpty ? `(?:.*${s})?` : `(?:.+${s})`;
      skipNextSeparator = true;
    } else if (last) {
      // `/a/**`: everything below /a/ (but not /a itself).
      source += `${s}.${some}`;
    } else {
      // `/a/**/b`: zero or more whole segments between a and b.
      source += options.globstarMayBeEmpty ? `(?:${s}.*)?` : `(?:${s}.+)`;
    }
  });
  return new RegExp(`^${source}$`, 's');
}

/** Compile a glob; patterns without wildcards compare exactly (cheaper than a RegExp). */
export function compileGlob(pattern: string, options: GlobOptions = PATH): Matcher {
  if (!isGlob(pattern)) return (value) => value === pattern;
  const re = globToRegExp(pattern, options);
  return (value) => re.test(value);
}

export const PATH_GLOB: GlobOptions = PATH;
export const HOST_GLOB: GlobOptions = { sep: '.', globstarMayBeEmpty: false };
export const VALUE_GLOB: GlobOptions = { sep: null, globstarMayBeEmpty: true };
/** Query values in allow rules: `*` stays between dots, `**` crosses them (Rego's glob.match default). */
export const QUERY_ALLOW_GLOB: GlobOptions = { sep: '.', globstarMayBeEmpty: true };
