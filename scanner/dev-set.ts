// The labelled dev set (../shared/data/injection/dev.jsonl, see its README) and THE split of it:
// one function decides which rows training may see, and both `npm run train:scanner` and
// `npm run eval:scanner` call it. Training reads rows only through trainingRows(); evaluation
// reports only on heldOutRows(); test/governance/scanner-split.test.ts checks they are disjoint.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DevRow {
  id: string;
  text: string;
  label: 0 | 1;
  category: string | null;
  source: string;
}

export type Side = 'train' | 'heldout';

/** The repository root (this file runs from dist/bench/scanner). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEV_SET_SHA256 = '35ea9d573c55c9f5f0fa810ffabb73656d9582307d0b80570a68c4818409c0c5';
/** Fraction of each stratum held out. */
export const HELD_OUT_FRACTION = 0.35;
const SPLIT_SALT = 'warden-scanner-split/v1';

export function devSetPath(): string {
  return process.env.WARDEN_INJECTION_DEV ?? path.resolve(REPO_ROOT, '..', 'shared', 'data', 'injection', 'dev.jsonl');
}

export function devSetAvailable(): boolean {
  return existsSync(devSetPath());
}

export function loadDevSet(file = devSetPath()): DevRow[] {
  const raw = readFileSync(file);
  const digest = createHash('sha256').update(raw).digest('hex');
  if (digest !== DEV_SET_SHA256) process.stderr.write(`warning: ${file} has sha256 ${digest}, not the documented ${DEV_SET_SHA256}\n`);
  return raw.toString('utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as DevRow);
}

export const sourceOf = (row: DevRow): 'deepset' | 'bipia' => (row.id.startsWith('bipia-') ? 'bipia' : 'deepset');

/**
 * Rows that must stay on the same side of the split. BIPIA: each attack string is inserted into
 * three carriers (rows 295.. text attacks, 520.. code attacks, three consecutive rows per attack,
 * per the dev set's README); those three rows are one group. deepset: rows sharing any run of five
 * words (the set recombines the same prompts) are one group. Everything else is its own group.
 */
export function groupKeys(rows: readonly DevRow[]): Map<string, string> {
  const keys = new Map<string, string>();
  const deepset = rows.filter((r) => sourceOf(r) === 'deepset');
  const parent = deepset.map((_, i) => i);
  const find = (i: number): number => { while (parent[i] !== i) { parent[i] = parent[parent[i]!]!; i = parent[i]!; } return i; };
  const firstWithShingle = new Map<string, number>();
  deepset.forEach((row, i) => {
    const words = row.text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (let k = 0; k + 5 <= words.length; k++) {
      const shingle = words.slice(k, k + 5).join(' ');
      const other = firstWithShingle.get(shingle);
      if (other === undefined) firstWithShingle.set(shingle, i);
      else parent[find(i)] = find(other);
    }
  });
  // Name each group after its smallest id, so that the split does not depend on row order.
  const smallest = new Map<number, string>();
  const index = (id: string) => Number(id.split('-').pop());
  deepset.forEach((row, i) => {
    const root = find(i);
    const current = smallest.get(root);
    if (current === undefined || index(row.id) < index(current)) smallest.set(root, row.id);
  });
  deepset.forEach((row, i) => keys.set(row.id, `deepset-group-${smallest.get(find(i))!}`));
  for (const row of rows) {
    if (sourceOf(row) !== 'bipia') continue;
    const n = Number(row.id.split('-').pop());
    if (row.label === 1 && n >= 295 && n < 520) keys.set(row.id, `bipia-text-attack-${Math.floor((n - 295) / 3)}`);
    else if (row.label === 1 && n >= 520) keys.set(row.id, `bipia-code-attack-${Math.floor((n - 520) / 3)}`);
    else keys.set(row.id, row.id);
  }
  return keys;
}

/** The stratum a group is sampled in: source and category (BIPIA), source and labels (deepset). */
function stratumOf(rows: DevRow[]): string {
  const first = rows[0]!;
  if (sourceOf(first) === 'bipia') return `bipia:${first.category}`;
  const labels = new Set(rows.map((r) => r.label));
  return `deepset:${labels.size > 1 ? 'mixed' : first.label}`;
}

const saltedHash = (key: string) => createHash('sha256').update(`${SPLIT_SALT}:${key}`).digest('hex');

/** Which side each row is on. Deterministic: depends only on the rows' ids and texts. */
export function splitDevSet(rows: readonly DevRow[]): Map<string, Side> {
  const keys = groupKeys(rows);
  const groups = new Map<string, DevRow[]>();
  for (const row of rows) {
    const key = keys.get(row.id)!;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const strata = new Map<string, Array<{ key: string; rows: DevRow[] }>>();
  for (const [key, members] of groups) {
    const stratum = stratumOf(members);
    strata.set(stratum, [...(strata.get(stratum) ?? []), { key, rows: members }]);
  }
  const side = new Map<string, Side>();
  for (const members of strata.values()) {
    const total = members.reduce((n, g) => n + g.rows.length, 0);
    let held = 0;
    const ordered = [...members].sort((a, b) => (saltedHash(a.key) < saltedHash(b.key) ? -1 : saltedHash(a.key) > saltedHash(b.key) ? 1 : 0));
    for (const group of ordered) {
      // Take a group when that brings the held-out count closer to its target.
      const take = held + group.rows.length / 2 <= HELD_OUT_FRACTION * total;
      if (take) held += group.rows.length;
      for (const row of group.rows) side.set(row.id, take ? 'heldout' : 'train');
    }
  }
  return side;
}

/** The only rows training may use. */
export function trainingRows(rows: readonly DevRow[]): DevRow[] {
  const side = splitDevSet(rows);
  return rows.filter((r) => side.get(r.id) === 'train');
}

/** The rows evaluation reports on; training never sees them. */
export function heldOutRows(rows: readonly DevRow[]): DevRow[] {
  const side = splitDevSet(rows);
  return rows.filter((r) => side.get(r.id) === 'heldout');
}
