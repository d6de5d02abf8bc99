// Canonical JSON: the one serialisation of a value that the audit hash is computed over.
//
// - no whitespace anywhere;
// - object keys sorted by their UTF-16 code units (JavaScript's default string order, as in
//   RFC 8785), each key once;
// - strings and numbers written exactly as JSON.stringify writes them (numbers in ECMAScript's
//   shortest round-trip form, -0 as 0);
// - true, false, null as themselves; arrays in their order;
// - an object property whose value is undefined is left out (as JSON.stringify does);
// - anything JSON cannot represent faithfully is refused rather than silently changed: NaN and
//   ±Infinity, bigint, functions, symbols, undefined as a value or array element, cycles, and
//   objects other than plain objects and arrays (a value with toJSON(), like a Date, is
//   replaced by what toJSON() returns, as JSON.stringify does).
// Parsing canonical JSON and serialising it again gives the same text, which is what lets a
// verifier recompute hashes from stored or exported records.

export class CanonicalJsonError extends TypeError {
  constructor(readonly at: string, problem: string) {
    super(`${at}: ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

function serialise(value: unknown, at: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(at, `${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(at, `a ${typeof value} has no JSON form`);
  }
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return serialise((object as { toJSON: (key: string) => unknown }).toJSON(''), at, ancestors);
  }
  if (ancestors.has(object)) throw new CanonicalJsonError(at, 'circular reference');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.map((item, i) => {
        if (item === undefined) throw new CanonicalJsonError(`${at}[${i}]`, 'undefined has no JSON form');
        return serialise(item, `${at}[${i}]`, ancestors);
      });
      return `[${items.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalJsonError(at, `a ${proto?.constructor?.name ?? 'non-plain'} object has no faithful JSON form`);
    }
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${serialise(member, `${at}.${key}`, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}

/** The canonical JSON text of `value` (rules above). Throws CanonicalJsonError. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new CanonicalJsonError('$', 'undefined has no JSON form');
  return serialise(value, '$', new Set());
}
