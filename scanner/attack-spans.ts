// Where the directive sits in a BIPIA training row. Each attack string is inserted into three
// carriers, once at the start (attack + "\n" + carrier) and once at the end (carrier + "\n" +
// attack); the longest line-ending prefix of one row that is also a suffix of another in the same
// group is the attack. Only training rows are passed here: it reads nothing held out.
import type { DevRow } from './dev-set.js';

export function attackOf(texts: readonly string[]): string | null {
  let best: string | null = null;
  for (const a of texts) {
    for (const b of texts) {
      if (a === b) continue;
      for (let k = a.indexOf('\n'); k > 0; k = a.indexOf('\n', k + 1)) {
        const candidate = a.slice(0, k);
        if (b.endsWith('\n' + candidate) && (best === null || candidate.length > best.length)) best = candidate;
      }
    }
  }
  return best;
}

/** For each injected BIPIA row whose attack could be found: the [start, end) spans of the attack in it. */
export function bipiaAttackSpans(rows: readonly DevRow[], groupOf: ReadonlyMap<string, string>): Map<string, Array<[number, number]>> {
  const groups = new Map<string, DevRow[]>();
  for (const row of rows) {
    if (row.label !== 1 || !row.id.startsWith('bipia-')) continue;
    const key = groupOf.get(row.id)!;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const spans = new Map<string, Array<[number, number]>>();
  for (const members of groups.values()) {
    const attack = attackOf(members.map((r) => r.text));
    if (attack === null) continue;
    for (const row of members) {
      const found: Array<[number, number]> = [];
      for (let at = row.text.indexOf(attack); at >= 0; at = row.text.indexOf(attack, at + 1)) found.push([at, at + attack.length]);
      if (found.length > 0) spans.set(row.id, found);
    }
  }
  return spans;
}
