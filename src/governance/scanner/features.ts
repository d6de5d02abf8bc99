// Features of normalised text. One pass cuts it into sentences (at a newline, after . ! ? and a
// space, or at MAX_SENTENCE units) and sentences into pieces (at the first space after
// PIECE units), and gives each piece its hashed features: character 4-grams and word unigrams
// and bigrams. Rules read whole sentences, and only those holding one of their trigger words.
import { RULES, type Rule } from './rules.js';
import type { ScoringWeights } from './model.js';
import { isWordChar, type Normalized } from './normalize.js';
import type { ScanCategory } from './types.js';

export const HASH_BITS = 16;
const MAX_SENTENCE = 400;
/** A piece ends at the first space after this many units (a window can then be smaller than a long sentence). */
const PIECE = 96;

const SEED_CHAR4 = 0x9e3779b1;
const SEED_WORD = 0x85ebca77;
const SEED_BIGRAM = 0xc2b2ae3d;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Multiplicative hashing: the top HASH_BITS bits of (h ^ seed) * golden ratio. */
function bucket(h: number, seed: number): number {
  return Math.imul(h ^ seed, 0x9e3779b1) >>> (32 - HASH_BITS);
}

function fnv(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Dense (named) features: rule matches, traces of hidden text, and where the passage sits. */
export const MARK_FEATURES = [
  'mark.invisible_in_word', 'mark.bidi', 'mark.homoglyph', 'mark.spaced_letters', 'mark.tag_text', 'mark.decoded_payload',
] as const;
export const CONTEXT_FEATURES = ['ctx.code_exfiltration', 'ctx.shouting', 'ctx.task_at_edge'] as const;
export const DENSE_FEATURES: readonly string[] = [...RULES.map((r) => r.id), ...MARK_FEATURES, ...CONTEXT_FEATURES];
export const DENSE_INDEX: ReadonlyMap<string, number> = new Map(DENSE_FEATURES.map((name, i) => [name, i]));
export const DENSE_CATEGORY: readonly ScanCategory[] = [
  ...RULES.map((r) => r.category),
  ...MARK_FEATURES.map((): ScanCategory => 'hidden_text'),
  'exfiltration', 'instruction_override', 'instruction_override',
];
/**
 * Where training starts each dense weight and pulls it back to: the belief, before any data, that
 * a rule match or a trace of hidden text is evidence of a directive. The data moves them.
 */
export const DENSE_PRIOR: readonly number[] = [
  ...RULES.map((r) => (r.weak ? 0.5 : 2)),
  ...MARK_FEATURES.map(() => 2),
  1, 0, 0,
];
const denseId = (name: string) => DENSE_INDEX.get(name)!;
export const CODE_EXFILTRATION = denseId('ctx.code_exfiltration');
export const DECODED_PAYLOAD = denseId('mark.decoded_payload');
export const TAG_TEXT = denseId('mark.tag_text');
const READS_SECRETS = denseId('exfil.reads_secrets');
const NETWORK_SEND = denseId('tool.network_send');

// --- rule triggers ----------------------------------------------------------------------------
// A word triggers rules by its FNV hash (words under PREFIX letters) or the hash of its first
// PREFIX letters; a 64K-entry filter answers "no" for almost every word without a Map lookup.
const PREFIX = 5;
const triggerExact = new Map<number, number[]>();
const triggerPrefix = new Map<number, number[]>();
const triggerFilter = new Uint8Array(1 << 16);
const filterSlot = (h: number) => (h ^ (h >>> 16)) & 0xffff;
/** ASCII punctuation -> rules it enables. */
const symbolRules: Array<number[] | undefined> = new Array(0x80);
/** Letters of scripts without word spaces -> rules they enable (the table says whether to look). */
const letterRules = new Map<number, number[]>();
const letterTable = new Uint8Array(0x10000);
/** ASCII characters rules may need: a bit each. */
const NEEDED_BIT = new Uint8Array(0x80);
const ruleNeeds: number[] = [];

function addTrigger(map: Map<number, number[]>, key: number, rule: number): void {
  const list = map.get(key) ?? [];
  if (!list.includes(rule)) list.push(rule);
  map.set(key, list);
  triggerFilter[filterSlot(key)] = 1;
}

let neededBits = 0;
RULES.forEach((rule: Rule, index) => {
  for (const trigger of rule.triggers) {
    const word = trigger.split(/[^\p{L}\p{M}\p{N}]/u)[0] ?? '';
    if (word.length === 0) continue;
    if (word.length >= PREFIX) addTrigger(triggerPrefix, fnv(word.slice(0, PREFIX)), index);
    else addTrigger(triggerExact, fnv(word), index);
  }
  for (const letter of rule.letters ?? '') {
    const c = letter.charCodeAt(0);
    letterTable[c] = 1;
    letterRules.set(c, [...(letterRules.get(c) ?? []), index]);
  }
  for (const symbol of rule.symbols ?? '') {
    const c = symbol.charCodeAt(0);
    symbolRules[c] = [...(symbolRules[c] ?? []), index];
  }
  let mask = 0;
  for (const needed of rule.needs ?? '') {
    const c = needed.charCodeAt(0);
    if (NEEDED_BIT[c] === 0) NEEDED_BIT[c] = 1 << neededBits++;
    mask |= NEEDED_BIT[c]!;
  }
  ruleNeeds.push(mask);
});

/** Words a task for an assistant starts with (imperatives and question words), keyed like triggers. */
const TASK_WORDS = [
  'write', 'draft', 'compose', 'explain', 'describe', 'translate', 'provide', 'give', 'list', 'summarize', 'summarise', 'create',
  'generate', 'tell', 'show', 'outline', 'suggest', 'what', 'how', 'who', 'why', 'where', 'when', 'which', 'can', 'could', 'name',
  'define', 'calculate', 'recommend', 'develop', 'break', 'introduce', 'include', 'add', 'modify', 'replace', 'use', 'remove',
  'rearrange', 'insert', 'integrate', 'enhance', 'augment', 'render', 'convert', 'group', 'combine', 'scramble', 'misspell', 'jumble',
  'anagram', 'answer', 'respond', 'reply', 'schreibe', 'erklare', 'beschreibe', 'ubersetze', 'gib', 'nenne', 'was', 'wie', 'wer',
  'warum', 'ecris', 'explique', 'decris', 'traduis', 'donne', 'quel', 'quelle', 'comment', 'qui', 'pourquoi', 'escribe', 'explica',
  'describe', 'traduce', 'dame', 'que', 'como', 'quien', 'por',
];
const taskExact = new Set<number>();
const taskPrefix = new Set<number>();
for (const word of TASK_WORDS) {
  if (word.length >= PREFIX) taskPrefix.add(fnv(word.slice(0, PREFIX)));
  else taskExact.add(fnv(word));
}
/** A task at the start or end of a document is a directive candidate when at least this much text surrounds it. */
const TASK_CONTEXT = 200;
const TASK_AT_EDGE = (): number => DENSE_INDEX.get('ctx.task_at_edge')!;

export interface RuleHit {
  rule: number;
  /** Normalised offsets. */
  start: number;
  end: number;
}

/** One segment of a normalised text (a sentence or a piece of one): its features and what matched in it. */
export interface Segment {
  start: number;
  end: number;
  /** Hashed feature buckets (with repeats); kept only when reading for training. */
  hashed: Int32Array | null;
  /** How many hashed features, and the sum of their weights under the model read with. */
  count: number;
  sum: number;
  /** Dense feature ids present (rules and marks). */
  dense: number[];
  hits: RuleHit[];
}

/** Reused between calls: the buckets of the piece being read (training only). */
let scratch: Int32Array = new Int32Array(4096);

function put(buffer: Int32Array, at: number, value: number): Int32Array {
  if (at === buffer.length) {
    const grown = new Int32Array(buffer.length * 2);
    grown.set(buffer);
    buffer = grown;
  }
  buffer[at] = value;
  return buffer;
}

const ASCII_WORD = new Uint8Array(0x80);
for (let c = 0x30; c <= 0x39; c++) ASCII_WORD[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_WORD[c] = 1;

const NO_HITS: RuleHit[] = [];
const NO_DENSE: number[] = [];

function matchRules(text: string, start: number, end: number, triggered: Set<number>, needed: number, hits: RuleHit[]): void {
  if (triggered.size === 0) return;
  const segment = text.slice(start, end);
  for (const r of [...triggered].sort((a, b) => a - b)) {
    if (ruleNeeds[r] !== 0 && (ruleNeeds[r]! & needed) === 0) continue;
    const pattern = RULES[r]!.pattern;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(segment); m !== null; m = pattern.exec(segment)) {
      hits.push({ rule: r, start: start + m.index, end: start + m.index + m[0].length });
      if (m[0].length === 0) pattern.lastIndex++;
    }
  }
}

/** Marks (normalised offsets) that fall inside a segment become its dense features. */
export interface MarkPositions {
  /** For each mark feature name, sorted normalised offsets. */
  positions: Array<{ feature: number; at: number[] }>;
}

/**
 * Reads `text` as segments (pieces of sentences). With `weights`, each segment's hashed features
 * are summed on the fly; without, they are kept (for training).
 */
export function segmentText(text: string, marks: MarkPositions, scoring: ScoringWeights | null): Segment[] {
  const weights = scoring?.values ?? null;
  const scale = scoring?.scale ?? 0;
  const segments: Segment[] = [];
  const triggered = new Set<number>();
  const n = text.length;
  let sentenceStart = 0, sentenceFirst = 0, pieceStart = 0;
  let count = 0, sum = 0, needed = 0;
  let gram = 0x20202020, previous = 0x0a;
  let word = FNV_OFFSET, wordLength = 0, prefix = 0, previousWord = 0, words = 0;
  let sentenceWords = 0, taskStart = false;

  const closePiece = (end: number) => {
    if (end > pieceStart) {
      segments.push({ start: pieceStart, end, hashed: weights ? null : scratch.slice(0, count), count, sum: sum * scale, dense: NO_DENSE, hits: NO_HITS });
    }
    pieceStart = end;
    count = 0; sum = 0; gram = 0x20202020; words = 0;
  };
  const closeSentence = (end: number) => {
    closePiece(end);
    if (triggered.size > 0) attributeHits(text, sentenceStart, end, triggered, needed, segments, sentenceFirst);
    if ((sentenceStart === 0 || end === n) && n - (end - sentenceStart) >= TASK_CONTEXT && (taskStart || endsWithQuestion(text, sentenceStart, end))) {
      for (let k = sentenceFirst; k < segments.length; k++) addDense(segments[k]!, TASK_AT_EDGE());
    }
    triggered.clear();
    needed = 0;
    sentenceWords = 0;
    taskStart = false;
    sentenceStart = end;
    sentenceFirst = segments.length;
  };

  for (let i = 0; i <= n; i++) {
    let c = i < n ? text.charCodeAt(i) : 0x20;
    const newline = c === 0x0a;
    if (newline) c = 0x20;
    if (c < 0x80 ? ASCII_WORD[c] === 1 : isWordChar(c)) {
      if (c >= 0x80 && letterTable[c] === 1) for (const r of letterRules.get(c)!) triggered.add(r);
      word = Math.imul(word ^ c, FNV_PRIME);
      if (++wordLength === PREFIX) prefix = word;
    } else {
      if (wordLength > 0) {
        const key = wordLength < PREFIX ? word : prefix;
        if (sentenceWords++ === 0) taskStart = (wordLength < PREFIX ? taskExact : taskPrefix).has(key);
        if (triggerFilter[filterSlot(key)] === 1) {
          const rules = (wordLength < PREFIX ? triggerExact : triggerPrefix).get(key);
          if (rules) for (const r of rules) triggered.add(r);
        }
        let b = bucket(word, SEED_WORD);
        if (weights) sum += weights[b]!; else scratch = put(scratch, count, b);
        count++;
        if (words > 0) {
          b = bucket(Math.imul(previousWord, 31) + word, SEED_BIGRAM);
          if (weights) sum += weights[b]!; else scratch = put(scratch, count, b);
          count++;
        }
        previousWord = word;
        words++;
        word = FNV_OFFSET;
        wordLength = 0;
      }
      if (c !== 0x20 && c < 0x80) {
        const rules = symbolRules[c];
        if (rules) for (const r of rules) triggered.add(r);
        needed |= NEEDED_BIT[c]!;
      }
    }
    if (!(c === 0x20 && (gram & 0xff) === 0x20)) { // no 4-grams of spaces only at the edges
      gram = (gram << 8) | ((c ^ (c >>> 8)) & 0xff);
      const b = bucket(gram, SEED_CHAR4);
      if (weights) sum += weights[b]!; else scratch = put(scratch, count, b);
      count++;
    }
    if (i === n) break;
    if (newline) closeSentence(i + 1);
    else if (c === 0x20) {
      if (previous === 0x2e || previous === 0x21 || previous === 0x3f || i + 1 - sentenceStart >= MAX_SENTENCE) closeSentence(i + 1);
      else if (i + 1 - pieceStart >= PIECE) closePiece(i + 1);
    } else if (i + 1 - sentenceStart >= MAX_SENTENCE + PIECE) closeSentence(i + 1); // no space for a long while
    previous = c;
  }
  closeSentence(n);
  if (marks.positions.length > 0) addMarks(segments, marks);
  return segments;
}

function endsWithQuestion(text: string, start: number, end: number): boolean {
  let i = end - 1;
  while (i > start && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x0a)) i--;
  return text.charCodeAt(i) === 0x3f;
}

function addDense(piece: Segment, feature: number): void {
  if (piece.dense === NO_DENSE) piece.dense = [];
  if (!piece.dense.includes(feature)) piece.dense.push(feature);
}

/** Rule matches in sentence [start, end) go to the segments (from `first` on) they touch. */
function attributeHits(text: string, start: number, end: number, triggered: Set<number>, needed: number, segments: Segment[], first: number): void {
  const hits: RuleHit[] = [];
  matchRules(text, start, end, triggered, needed, hits);
  for (const hit of hits) {
    for (let k = first; k < segments.length; k++) {
      const piece = segments[k]!;
      if (hit.start < piece.end && piece.start < hit.end) {
        if (piece.hits === NO_HITS) piece.hits = [];
        piece.hits.push(hit);
        addDense(piece, hit.rule);
      }
    }
  }
}

function addMarks(segments: Segment[], marks: MarkPositions): void {
  for (const piece of segments) {
    for (const { feature, at } of marks.positions) {
      if (anyWithin(at, piece.start, piece.end)) addDense(piece, feature);
    }
  }
}

function anyWithin(sorted: number[], start: number, end: number): boolean {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! < start) lo = mid + 1; else hi = mid; }
  return lo < sorted.length && sorted[lo]! < end;
}

/** Normalised offsets of the traces of hidden text in `normalized`. */
export function markPositions(normalized: Normalized): MarkPositions {
  const { marks, start } = normalized;
  const toNormalized = (originals: number[]) => originals.map((o) => lowerBound(start, o));
  const positions = [
    { feature: denseId('mark.invisible_in_word'), at: toNormalized(marks.invisibleInWord) },
    { feature: denseId('mark.bidi'), at: toNormalized(marks.bidi) },
    { feature: denseId('mark.homoglyph'), at: toNormalized(marks.homoglyphs) },
    { feature: denseId('mark.spaced_letters'), at: toNormalized(marks.spacedRuns.map(([s]) => s)) },
    { feature: denseId('ctx.shouting'), at: toNormalized(marks.shouting) },
  ];
  return { positions: positions.filter((p) => p.at.length > 0).map((p) => ({ ...p, at: p.at.sort((a, b) => a - b) })) };
}

/** First index i with sorted[i] >= value. */
export function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! < value) lo = mid + 1; else hi = mid; }
  return lo;
}

/** Window-level dense features that need two rules at once. */
export function conjunctions(dense: Set<number>): void {
  if (dense.has(READS_SECRETS) && dense.has(NETWORK_SEND)) dense.add(CODE_EXFILTRATION);
}
