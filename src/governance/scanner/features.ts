// Features of normalised text. One pass over its units cuts it into sentences (at a newline,
// after . ! ? and a space, or at MAX_SENTENCE units) and sentences into pieces (at the first
// space after PIECE units), and gives each piece its hashed features: character 4-grams and word
// unigrams and bigrams, summed under the model's weights as they are read. Rules read whole
// sentences, and only those holding their trigger words. A second, short pass over the sentences
// adds the context features: where a sentence stands in the text (a task at its edge or in its
// middle, a change of topic, a break in a table, an order to include code next to risky code).
//
// The pass is the scanner's hot loop: no allocation per character or word, all state in locals,
// lookups in typed arrays (segmentText is not re-entrant: it reuses module-level buffers).
import { RULES, type Rule } from './rules.js';
import type { ScoringWeights } from './model.js';
import { Buffer } from 'node:buffer';
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
export const CONTEXT_FEATURES = [
  'ctx.code_exfiltration', 'ctx.shouting', 'ctx.task_at_edge', 'ctx.task_in_middle', 'ctx.novel_sentence', 'ctx.novel_task', 'ctx.structure_break',
  'ctx.code_order_risky_code',
] as const;
export const DENSE_FEATURES: readonly string[] = [...RULES.map((r) => r.id), ...MARK_FEATURES, ...CONTEXT_FEATURES];
export const DENSE_INDEX: ReadonlyMap<string, number> = new Map(DENSE_FEATURES.map((name, i) => [name, i]));
export const DENSE_CATEGORY: readonly ScanCategory[] = [
  ...RULES.map((r) => r.category),
  ...MARK_FEATURES.map((): ScanCategory => 'hidden_text'),
  'exfiltration', 'instruction_override', 'instruction_override', 'instruction_override', 'instruction_override', 'instruction_override', 'instruction_override',
  'tool_smuggling',
];
/**
 * Where training starts each dense weight and pulls it back to: the belief, before any data, that
 * a rule match or a trace of hidden text is evidence of a directive. The data moves them.
 */
export const DENSE_PRIOR: readonly number[] = [
  ...RULES.map((r) => (r.weak ? 0.5 : 2)),
  ...MARK_FEATURES.map(() => 2),
  1, 0, 0, 0, 0, 0, 0, 1,
];
const denseId = (name: string) => DENSE_INDEX.get(name)!;
export const CODE_EXFILTRATION = denseId('ctx.code_exfiltration');
export const READS_SECRETS_ID = denseId('exfil.reads_secrets');
export const NETWORK_SEND_ID = denseId('tool.network_send');
export const DECODED_PAYLOAD = denseId('mark.decoded_payload');
export const TAG_TEXT = denseId('mark.tag_text');
const READS_SECRETS = denseId('exfil.reads_secrets');
const NETWORK_SEND = denseId('tool.network_send');

// --- rule triggers ----------------------------------------------------------------------------
// A word triggers rules by its FNV hash (words under PREFIX letters) or the hash of its first
// PREFIX letters; a 64K-entry filter answers "no" for almost every word without a Map lookup.
// A trigger entry is rule * 2 + group: group 0 are a rule's `triggers` (and its symbols and
// letters), group 1 its `also` words; a rule with `also` runs only when both groups occurred.
const PREFIX = 5;
/** Prefix keys live in their own key space. */
const PREFIX_SEED = 0x5bd1e995;
const keyOf = (word: string) => (word.length >= PREFIX ? fnv(word.slice(0, PREFIX)) ^ PREFIX_SEED : fnv(word));

/**
 * Word keys -> small integer lists (trigger entries, task words): open addressing over the keys in
 * typed arrays, so that a lookup in the hot loop is a few array reads and no Map.
 */
class KeyTable {
  private keys = new Int32Array(0);
  private used = new Uint8Array(0);
  private lists: number[][] = [];
  private slots = new Int32Array(0);
  private readonly pending = new Map<number, number[]>();

  add(key: number, value: number): void {
    const list = this.pending.get(key) ?? [];
    if (!list.includes(value)) list.push(value);
    this.pending.set(key, list);
  }

  /** Builds the table (after the last add). */
  seal(): void {
    let size = 64;
    while (size < 4 * this.pending.size) size *= 2;
    this.keys = new Int32Array(size); this.used = new Uint8Array(size); this.slots = new Int32Array(size);
    for (const [key, list] of this.pending) {
      let slot = this.slotOf(key);
      while (this.used[slot] === 1) slot = (slot + 1) & (size - 1);
      this.used[slot] = 1; this.keys[slot] = key; this.slots[slot] = this.lists.push(list) - 1;
    }
  }

  private slotOf(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & (this.keys.length - 1);
  }

  /** The list for `key`, or undefined. */
  get(key: number): number[] | undefined {
    const mask = this.keys.length - 1;
    for (let slot = this.slotOf(key); this.used[slot] === 1; slot = (slot + 1) & mask) {
      if (this.keys[slot] === key) return this.lists[this.slots[slot]!];
    }
    return undefined;
  }
}

const triggerTable = new KeyTable();
/**
 * One small filter for every word lookup (16 KiB, so it stays in cache next to the weights): a bit
 * per table a word key may be in. Almost every word finds no bit set and costs one read.
 */
const FILTER_BITS = 14;
const filter = new Uint8Array(1 << FILTER_BITS);
const IN_WORDS = 1, IN_TRIGGERS = 2, IN_STOPWORDS = 4, IN_EXACT = 8;
const filterSlot = (h: number) => (h ^ (h >>> 16)) & ((1 << FILTER_BITS) - 1);
/** ASCII punctuation -> trigger entries. */
const symbolRules: Array<number[] | undefined> = new Array(0x80);
/** Letters of scripts without word spaces -> trigger entries (the table says whether to look). */
const letterRules = new Map<number, number[]>();
const letterTable = new Uint8Array(0x10000);
/** ASCII characters rules may need: a bit each. */
const NEEDED_BIT = new Uint32Array(0x80);
const ruleNeeds: number[] = [];
/** Per rule: the trigger groups that must all occur (1: triggers; 3: triggers and also). */
const ruleGroups = new Uint8Array(RULES.length);
/** Per rule: 1 when its triggers count only among the first words of a sentence. */
const ruleAtStart = new Uint8Array(RULES.length);
/** Words a sentence may have before the trigger of an `atStart` rule. */
const AT_START_WORDS = 3;

function addTriggerWords(words: readonly string[], entry: number, exact = false): void {
  for (const trigger of words) {
    const word = trigger.split(/[^\p{L}\p{M}\p{N}]/u)[0] ?? '';
    if (word.length === 0) continue;
    const key = exact ? fnv(word) : keyOf(word);
    triggerTable.add(key, entry);
    filter[filterSlot(key)]! |= exact && word.length >= PREFIX ? IN_EXACT : IN_TRIGGERS;
  }
}

let neededBits = 0;
RULES.forEach((rule: Rule, index) => {
  addTriggerWords(rule.triggers, index * 2);
  if (rule.exact) addTriggerWords(rule.exact, index * 2, true);
  if (rule.also) addTriggerWords(rule.also, index * 2 + 1);
  ruleGroups[index] = rule.also ? 3 : 1;
  ruleAtStart[index] = rule.atStart ? 1 : 0;
  for (const letter of rule.letters ?? '') {
    const c = letter.charCodeAt(0);
    letterTable[c] = 1;
    letterRules.set(c, [...(letterRules.get(c) ?? []), index * 2]);
  }
  for (const symbol of rule.symbols ?? '') {
    const c = symbol.charCodeAt(0);
    symbolRules[c] = [...(symbolRules[c] ?? []), index * 2];
  }
  let mask = 0;
  for (const needed of rule.needs ?? '') {
    const c = needed.charCodeAt(0);
    if (NEEDED_BIT[c] === 0) NEEDED_BIT[c] = 1 << neededBits++;
    mask |= NEEDED_BIT[c]!;
  }
  ruleNeeds.push(mask);
});
triggerTable.seal();

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
const WORD_TASK = 1;
/** Word keys -> [WORD_TASK]: the words a task starts with. */
const wordTable = new KeyTable();
for (const word of TASK_WORDS) { wordTable.add(keyOf(word), WORD_TASK); filter[filterSlot(keyOf(word))]! |= IN_WORDS; }
wordTable.seal();

/** A task at the start or end of a document is a directive candidate when at least this much text surrounds it. */
const TASK_CONTEXT = 200;
const TASK_AT_EDGE = denseId('ctx.task_at_edge');
const TASK_IN_MIDDLE = denseId('ctx.task_in_middle');
const NOVEL_SENTENCE = denseId('ctx.novel_sentence');
const NOVEL_TASK = denseId('ctx.novel_task');
const STRUCTURE_BREAK = denseId('ctx.structure_break');
const CODE_ORDER_RISKY = denseId('ctx.code_order_risky_code');
const CODE_FOR_THE_AI = denseId('tool.code_for_the_ai');
/** Rules that mark code doing something an injected snippet would do. */
const RISKY_CODE = new Uint8Array(DENSE_FEATURES.length);
for (const id of ['exfil.reads_secrets', 'tool.network_send', 'tool.run_code', 'tool.dangerous_shell', 'exfil.send_to', 'exfil.secrets']) RISKY_CODE[denseId(id)] = 1;
/** How far (normalised units) from an order to put code into the AI's work risky code may be. */
const CODE_ORDER_REACH = 1500;
const STOPWORDS = new Set([
  'what', 'that', 'this', 'with', 'your', 'from', 'have', 'which', 'there', 'about', 'would', 'could', 'should', 'their', 'these', 'those',
  'other', 'they', 'them', 'then', 'than', 'when', 'where', 'will', 'were', 'been', 'being', 'some', 'more', 'most', 'into', 'only', 'also',
  'just', 'very', 'such', 'does', 'doing', 'each', 'here', 'while', 'after', 'before', 'over', 'under', 'because', 'please', 'thank', 'thanks',
  'know', 'like', 'make', 'want', 'need', 'sure', 'well', 'even', 'much', 'many', 'same', 'both', 'still', 'between', 'through', 'again',
  'eine', 'einen', 'einem', 'einer', 'nicht', 'sind', 'wird', 'werden', 'dass', 'oder', 'auch', 'noch', 'sich', 'nach', 'uber', 'wenn', 'haben',
  'dans', 'pour', 'avec', 'sont', 'nous', 'vous', 'mais', 'cette', 'elle', 'comme', 'plus', 'para', 'como', 'esta', 'este', 'pero', 'sobre', 'porque',
].map(keyOf));
/** Sentences with at least this many content words are tested for novelty... */
const NOVEL_MIN_WORDS = 2;
/** ...in passages with at least this many other content words. */
const NOVEL_CONTEXT_WORDS = 15;
/** A task is a short sentence: at most this many words (a long one is prose). */
const MAX_TASK_WORDS = 25;
/** A task in the middle of a passage counts when at least this much text surrounds it. */
const TASK_CONTEXT_MIDDLE = 120;

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

/**
 * Reused between calls: the buckets of the piece being read (kept for training). Large enough for
 * any piece: a sentence is cut at MAX_SENTENCE + PIECE units, each adding at most three features.
 */
const scratch: Int32Array<ArrayBuffer> = new Int32Array(4 * (MAX_SENTENCE + PIECE) + 64);

function grow(buffer: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (needed <= buffer.length) return buffer;
  const grown = new Int32Array(Math.max(needed, buffer.length * 2));
  grown.set(buffer);
  return grown;
}

const ASCII_WORD = new Uint8Array(0x80);
for (let c = 0x30; c <= 0x39; c++) ASCII_WORD[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ASCII_WORD[c] = 1;

/** ASCII characters the loop must look at outside words: those that trigger rules, rules need, or '|'. */
const SYMBOL = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++) SYMBOL[c] = symbolRules[c] !== undefined || NEEDED_BIT[c] !== 0 || c === 0x7c ? 1 : 0;

const NO_HITS: RuleHit[] = [];
const ZERO_WEIGHTS = new Int16Array(1 << HASH_BITS);
const NO_DENSE: number[] = [];

/** Stop words (by FNV hash) are not content words; a 64K-entry filter answers "no" for most words without a Set lookup. */
for (const key of STOPWORDS) filter[filterSlot(key)]! |= IN_STOPWORDS;

/** Which ends of a text are ends of the whole input (for a chunk of a long input, maybe neither). */
export interface Edges {
  start: boolean;
  end: boolean;
}
const BOTH_EDGES: Edges = Object.freeze({ start: true, end: true });

/** Marks (normalised offsets) that fall inside a segment become its dense features. */
export interface MarkPositions {
  /** For each mark feature name, sorted normalised offsets. */
  positions: Array<{ feature: number; at: number[] }>;
}

/** Segments reused between scanning calls (segmentText with reuse): the objects, and the array handed out. */
const pool: { objects: Segment[]; segments: Segment[] } = { objects: [], segments: [] };

function pooledSegment(index: number, start: number, end: number, count: number, sum: number): Segment {
  let segment = pool.objects[index];
  if (segment === undefined) {
    segment = { start, end, hashed: null, count, sum, dense: NO_DENSE, hits: NO_HITS };
    pool.objects.push(segment);
    return segment;
  }
  segment.start = start; segment.end = end; segment.count = count; segment.sum = sum;
  // A pooled segment keeps its own arrays, emptied, for the next call (no allocation in steady state).
  if (segment.dense.length > 0) segment.dense.length = 0;
  if (segment.hits.length > 0) segment.hits.length = 0;
  return segment;
}

/**
 * Per-call working memory of segmentText, reused (segmentText is not re-entrant): the rules a
 * sentence triggered, content words, sentences and lines for the context features.
 */
type I32 = Int32Array<ArrayBuffer>;
const work: {
  triggered: I32; triggeredCount: number; seen: Uint8Array; ready: I32; words: I32; wordCount: number;
  sentences: I32; sentenceCount: number; lines: I32; lineCount: number; table: I32;
  /** The units of the text being read, as bytes (made on first use per call). */
  bytes: Buffer | null;
  /** Whether the text's start and end are those of the whole input (a chunk's cut is not an edge). */
  edges: Edges;
} = {
  triggered: new Int32Array(RULES.length), triggeredCount: 0, seen: new Uint8Array(RULES.length), ready: new Int32Array(RULES.length),
  words: new Int32Array(1024), wordCount: 0,
  // Sentences: start, end, first segment, end segment, first content word, end content word, task (0/1), line.
  sentences: new Int32Array(8 * 256), sentenceCount: 0,
  // Lines: '|' characters, words.
  lines: new Int32Array(2 * 256), lineCount: 0,
  table: new Int32Array(2048),
  bytes: null,
  edges: { start: true, end: true },
};

/** A trigger entry (rule * 2 + group) occurred in the sentence, as its `position`-th word (0: not a word). */
function trigger(entry: number, position: number): void {
  const rule = entry >> 1;
  if (ruleAtStart[rule] === 1 && position > AT_START_WORDS) return;
  const seen = work.seen[rule]!;
  if (seen === 0) work.triggered[work.triggeredCount++] = rule;
  work.seen[rule] = seen | (1 << (entry & 1));
}

/**
 * Reads `text` as segments (pieces of sentences). With `weights`, each segment's hashed features
 * are summed on the fly; without, they are kept (for training). One pass, all hot state in locals.
 */
export function segmentText(units: Uint16Array, marks: MarkPositions, scoring: ScoringWeights | null, reuse = false, edges = BOTH_EDGES): Segment[] {
  // Training reads without weights: the buckets are kept instead, and sums are of zeros.
  const training = scoring === null;
  const weights = scoring?.values ?? ZERO_WEIGHTS;
  const scale = scoring?.scale ?? 0;
  const pooled = reuse && !training;
  const segments: Segment[] = pooled ? pool.segments : [];
  segments.length = 0;
  let made = 0;
  const n = units.length;
  work.triggeredCount = 0; work.wordCount = 0; work.sentenceCount = 0; work.lineCount = 1; work.bytes = null; work.edges = edges;
  work.lines[0] = 0; work.lines[1] = 0;
  if (work.words.length < (n >> 2) + 16) work.words = new Int32Array((n >> 2) + 1024); // a content word takes at least five units
  const words32 = work.words;
  let wordCount = 0;
  let sentenceStart = 0, sentenceFirst = 0, pieceStart = 0, sentenceWordFrom = 0;
  let count = 0, sum = 0, needed = 0;
  let gram = 0x20202020, previous = 0x0a;
  let word = FNV_OFFSET, wordLength = 0, prefix = 0, previousWord = 0, words = 0;
  let sentenceWords = 0, taskStart = false, pipes = 0, lineWords = 0;
  const hashed = scratch;

  for (let i = 0; i <= n; i++) {
    let c = i < n ? units[i]! : 0x20;
    let close = 0; // 1: the piece ends here, 2: the sentence too
    let newline = false;
    if (c < 0x80 && ASCII_WORD[c] === 1) {
      // The common case, an ASCII letter or digit inside a word: its word hash and 4-gram only.
      word = Math.imul(word ^ c, FNV_PRIME);
      if (++wordLength === PREFIX) prefix = word;
      gram = (gram << 8) | c;
      let b = bucket(gram, SEED_CHAR4);
      sum = (sum + weights[b]!) | 0; hashed[count] = b;
      count++;
      // The rest of the word, in a tight loop (same work per character), up to the sentence limit.
      const stop = Math.min(n, sentenceStart + MAX_SENTENCE + PIECE - 1);
      while (i + 1 < stop) {
        const d = units[i + 1]!;
        if (d >= 0x80 || ASCII_WORD[d] !== 1) break;
        i++;
        word = Math.imul(word ^ d, FNV_PRIME);
        if (++wordLength === PREFIX) prefix = word;
        gram = (gram << 8) | d;
        b = bucket(gram, SEED_CHAR4);
        sum = (sum + weights[b]!) | 0;
        hashed[count++] = b;
      }
      previous = units[i]!;
      if (i + 1 - sentenceStart < MAX_SENTENCE + PIECE) continue;
      close = 2; // no space for a long while
    } else {
      newline = c === 0x0a;
      if (newline) c = 0x20;
      if (c >= 0x80 && isWordChar(c)) {
        if (letterTable[c] === 1) for (const r of letterRules.get(c)!) trigger(r, 0);
        word = Math.imul(word ^ c, FNV_PRIME);
        if (++wordLength === PREFIX) prefix = word;
      } else {
        if (wordLength > 0) {
          const key = wordLength < PREFIX ? word : prefix ^ PREFIX_SEED;
          const bits = filter[filterSlot(key)]!;
          if (sentenceWords++ === 0 && (bits & IN_WORDS) !== 0) taskStart = ((wordTable.get(key)?.[0] ?? 0) & WORD_TASK) !== 0;
          if ((bits & IN_TRIGGERS) !== 0) {
            const rules = triggerTable.get(key);
            if (rules) for (const r of rules) trigger(r, sentenceWords);
          }
          if (wordLength >= PREFIX && (filter[filterSlot(word)]! & IN_EXACT) !== 0) { // a whole-word trigger longer than a prefix
            const rules = triggerTable.get(word);
            if (rules) for (const r of rules) trigger(r, sentenceWords);
          }
          if (wordLength >= 4 && ((bits & IN_STOPWORDS) === 0 || !STOPWORDS.has(key))) {
            words32[wordCount++] = word;
          }
          lineWords++;
          let b = bucket(word, SEED_WORD);
          sum = (sum + weights[b]!) | 0; hashed[count] = b;
          count++;
          if (words > 0) {
            b = bucket(Math.imul(previousWord, 31) + word, SEED_BIGRAM);
            sum = (sum + weights[b]!) | 0; hashed[count] = b;
            count++;
          }
          previousWord = word;
          words++;
          word = FNV_OFFSET;
          wordLength = 0;
        }
        if (c < 0x80 && SYMBOL[c] === 1) {
          if (c === 0x7c) pipes++;
          const rules = symbolRules[c];
          if (rules) for (const r of rules) trigger(r, 0);
          needed |= NEEDED_BIT[c]!;
        }
      }
      if (!(c === 0x20 && (gram & 0xff) === 0x20)) { // no 4-grams of spaces only at the edges
        gram = (gram << 8) | ((c ^ (c >>> 8)) & 0xff);
        const b = bucket(gram, SEED_CHAR4);
        sum = (sum + weights[b]!) | 0; hashed[count] = b;
        count++;
      }
      if (i === n) break;
      if (newline) close = 2;
      else if (c === 0x20) {
        if (previous === 0x2e || previous === 0x21 || previous === 0x3f || i + 1 - sentenceStart >= MAX_SENTENCE) close = 2;
        else if (i + 1 - pieceStart >= PIECE) close = 1;
      } else if (i + 1 - sentenceStart >= MAX_SENTENCE + PIECE) close = 2; // no space for a long while
      previous = c;
    }
    if (close === 0) continue;
    const end = i + 1;
    if (end > pieceStart) {
      segments.push(pooled ? pooledSegment(made++, pieceStart, end, count, sum * scale)
        : { start: pieceStart, end, hashed: training ? hashed.slice(0, count) : null, count, sum: sum * scale, dense: NO_DENSE, hits: NO_HITS });
    }
    pieceStart = end; count = 0; sum = 0; gram = 0x20202020; words = 0;
    if (close === 2) {
      closeSentence(units, segments, sentenceStart, end, sentenceFirst, sentenceWordFrom, wordCount, sentenceWords, taskStart && pipes < 2, needed);
      sentenceStart = end; sentenceFirst = segments.length; sentenceWordFrom = wordCount;
      sentenceWords = 0; taskStart = false; needed = 0;
      if (newline) {
        work.lines[2 * (work.lineCount - 1)] = pipes; work.lines[2 * (work.lineCount - 1) + 1] = lineWords;
        if (2 * (work.lineCount + 1) > work.lines.length) work.lines = grow(work.lines, work.lines.length * 2);
        work.lineCount++;
        pipes = 0; lineWords = 0;
      }
    }
  }
  if (n > pieceStart) {
    segments.push(pooled ? pooledSegment(made++, pieceStart, n, count, sum * scale)
      : { start: pieceStart, end: n, hashed: training ? hashed.slice(0, count) : null, count, sum: sum * scale, dense: NO_DENSE, hits: NO_HITS });
  }
  closeSentence(units, segments, sentenceStart, n, sentenceFirst, sentenceWordFrom, wordCount, sentenceWords, taskStart && pipes < 2, needed);
  work.wordCount = wordCount;
  work.lines[2 * (work.lineCount - 1)] = pipes; work.lines[2 * (work.lineCount - 1) + 1] = lineWords;
  if (marks.positions.length > 0) addMarks(segments, marks);
  contextFeatures(n, segments);
  work.bytes = null;
  return segments;
}

/** A sentence [start, end) has ended: its rules run, the task-at-edge feature, and its record for the context features. */
function closeSentence(units: Uint16Array, segments: Segment[], start: number, end: number, first: number, wordFrom: number, wordTo: number, sentenceWords: number, taskStart: boolean, needed: number): void {
  const n = units.length;
  if (work.triggeredCount > 0) {
    attributeHits(units, start, end, needed, segments, first);
    for (let k = 0; k < work.triggeredCount; k++) work.seen[work.triggered[k]!] = 0;
    work.triggeredCount = 0;
  }
  const last = lastChar(units, start, end);
  // taskStart is false for a table row (two '|' or more on its line): a header "| name | ... |" is no task.
  const task = sentenceWords >= 3 && sentenceWords <= MAX_TASK_WORDS && (taskStart || (last === 0x3f && !inTableRow(units, start, end))) && (last === 0x2e || last === 0x3f || last === 0x21 || units[end - 1] === 0x0a || end === n);
  // At an edge, a task counts when it stands on a line of its own, set apart from the document (a
  // question at the end of a user's own paragraph is their question).
  const ownLine = (start === 0 || units[start - 1] === 0x0a) && (end === n || units[end - 1] === 0x0a);
  if (((start === 0 && work.edges.start) || (end === n && work.edges.end)) && ownLine && n - (end - start) >= TASK_CONTEXT && task) {
    for (let k = first; k < segments.length; k++) addDense(segments[k]!, TASK_AT_EDGE);
  }
  if (segments.length > first) {
    if (8 * (work.sentenceCount + 1) > work.sentences.length) work.sentences = grow(work.sentences, work.sentences.length * 2);
    const r = work.sentences, o = 8 * work.sentenceCount++;
    r[o] = start; r[o + 1] = end; r[o + 2] = first; r[o + 3] = segments.length; r[o + 4] = wordFrom; r[o + 5] = wordTo; r[o + 6] = task ? 1 : 0; r[o + 7] = work.lineCount - 1;
  }
}

/** Where a sentence sits in its passage: a task in the middle of data, a change of topic, a break in a table. */
function contextFeatures(n: number, segments: Segment[]): void {
  const { sentences, lines, sentenceCount, lineCount } = work;
  const total = work.wordCount;
  // Content-word counts: open addressing over the word hashes (slot = [hash, count]).
  let size = 64;
  while (size < 2 * total) size *= 2;
  if (work.table.length < 2 * size) work.table = new Int32Array(2 * size);
  const table = work.table;
  table.fill(0, 0, 2 * size);
  const words = work.words;
  for (let k = 0; k < total; k++) {
    const h = words[k]!;
    let slot = (Math.imul(h, 0x9e3779b1) >>> 0) & (size - 1);
    while (table[2 * slot + 1] !== 0 && table[2 * slot] !== h) slot = (slot + 1) & (size - 1);
    table[2 * slot] = h;
    table[2 * slot + 1] = table[2 * slot + 1]! + 1;
  }
  const countOf = (h: number) => {
    let slot = (Math.imul(h, 0x9e3779b1) >>> 0) & (size - 1);
    while (table[2 * slot] !== h) slot = (slot + 1) & (size - 1);
    return table[2 * slot + 1]!;
  };
  for (let s = 0; s < sentenceCount; s++) {
    const o = 8 * s;
    const start = sentences[o]!, end = sentences[o + 1]!, first = sentences[o + 2]!, last = sentences[o + 3]!;
    const wordFrom = sentences[o + 4]!, wordTo = sentences[o + 5]!, task = sentences[o + 6] === 1, line = sentences[o + 7]!;
    const own = wordTo - wordFrom;
    let novel = false;
    if (own >= NOVEL_MIN_WORDS && total - own >= NOVEL_CONTEXT_WORDS) {
      let shared = 0;
      for (let k = wordFrom; k < wordTo; k++) if (countOf(words[k]!) > 1) shared++;
      novel = shared * 5 <= own;
    }
    const middle = task && start > 0 && end < n && n - (end - start) >= TASK_CONTEXT_MIDDLE;
    let broken = false;
    if (lines[2 * line] === 0 && lines[2 * line + 1]! >= 3) {
      let before = line - 1, after = line + 1;
      while (before >= 0 && lines[2 * before + 1] === 0) before--;
      while (after < lineCount && lines[2 * after + 1] === 0) after++;
      broken = before >= 0 && after < lineCount && lines[2 * before]! >= 2 && lines[2 * after]! >= 2;
    }
    if (hasDense(segments, first, last, CODE_FOR_THE_AI) && riskyCodeNear(segments, first, last)) {
      for (let k = first; k < last; k++) addDense(segments[k]!, CODE_ORDER_RISKY);
    }
    if (!novel && !middle && !broken) continue;
    for (let k = first; k < last; k++) {
      const piece = segments[k]!;
      if (novel) addDense(piece, NOVEL_SENTENCE);
      if (middle) addDense(piece, TASK_IN_MIDDLE);
      if (novel && task) addDense(piece, NOVEL_TASK);
      if (broken) addDense(piece, STRUCTURE_BREAK);
    }
  }
}

function hasDense(segments: Segment[], first: number, last: number, feature: number): boolean {
  for (let k = first; k < last; k++) if (segments[k]!.dense.includes(feature)) return true;
  return false;
}

/** Whether a segment within CODE_ORDER_REACH units before or after segments [first, last) matches a risky-code rule. */
function riskyCodeNear(segments: Segment[], first: number, last: number): boolean {
  const from = segments[first]!.start - CODE_ORDER_REACH, to = segments[last - 1]!.end + CODE_ORDER_REACH;
  for (let k = first - 1; k >= 0 && segments[k]!.end > from; k--) for (const d of segments[k]!.dense) if (RISKY_CODE[d] === 1) return true;
  for (let k = last; k < segments.length && segments[k]!.start < to; k++) for (const d of segments[k]!.dense) if (RISKY_CODE[d] === 1) return true;
  return false;
}

/** Whether [start, end) has two '|' or more (part of a table row). */
function inTableRow(units: Uint16Array, start: number, end: number): boolean {
  let pipes = 0;
  for (let i = start; i < end; i++) if (units[i] === 0x7c && ++pipes === 2) return true;
  return false;
}

/** The last character of [start, end) that is not a space or line break. */
function lastChar(units: Uint16Array, start: number, end: number): number {
  let i = end - 1;
  while (i > start && (units[i] === 0x20 || units[i] === 0x0a)) i--;
  return units[i]!;
}

function addDense(piece: Segment, feature: number): void {
  if (piece.dense === NO_DENSE) piece.dense = [];
  if (!piece.dense.includes(feature)) piece.dense.push(feature);
}

/** Rule matches in sentence [start, end) go to the segments (from `first` on) they touch. */
function attributeHits(units: Uint16Array, start: number, end: number, needed: number, segments: Segment[], first: number): void {
  // The rules whose trigger groups all occurred, in rule order (insertion sort: a handful at most).
  const rules = work.triggered;
  let ready = 0;
  for (let k = 0; k < work.triggeredCount; k++) {
    const r = rules[k]!;
    if (work.seen[r] !== ruleGroups[r] || (ruleNeeds[r] !== 0 && (ruleNeeds[r]! & needed) === 0)) continue;
    let j = ready++;
    while (j > 0 && work.ready[j - 1]! > r) { work.ready[j] = work.ready[j - 1]!; j--; }
    work.ready[j] = r;
  }
  let segment: string | null = null;
  for (let k = 0; k < ready; k++) {
    const r = work.ready[k]!;
    const pattern = RULES[r]!.pattern;
    if (segment === null) {
      // The sentence as a string, for the regular expressions: decoded straight from the units' memory.
      work.bytes ??= Buffer.from(units.buffer, units.byteOffset, units.byteLength);
      segment = work.bytes.toString('utf16le', 2 * start, 2 * end);
    }
    pattern.lastIndex = 0;
    for (let m = pattern.exec(segment); m !== null; m = pattern.exec(segment)) {
      const hit: RuleHit = { rule: r, start: start + m.index, end: start + m.index + m[0].length };
      if (m[0].length === 0) pattern.lastIndex++;
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
