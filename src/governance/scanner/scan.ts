// scanText: normalise, read as segments, score every window with the model, and report the
// best window's score, the verdict its thresholds give, and the spans of the windows that fired.
// Long inputs are read in chunks (bounded memory), encoded payloads are decoded and read too.
import { decodeCandidates } from './decode.js';
import { CODE_EXFILTRATION, DENSE_CATEGORY, DENSE_FEATURES, NETWORK_SEND_ID, READS_SECRETS_ID, type Edges } from './features.js';
import { COUNT_PRIOR, scoringWeights, shippedModel, type DirectiveModel, type ScoringWeights, type StoredWeights } from './model.js';
import { MODEL_WEIGHTS } from './weights.generated.js';
import { originalEnd } from './normalize.js';
import { MAX_WINDOW_SEGMENTS, MAX_WINDOW_UNITS, readPassage, type Passage, type PassageKind, type Window } from './passage.js';
import { RULES } from './rules.js';
import { WARM_UP_TEXTS } from './warm-up.js';
import { SCAN_CATEGORIES, type ScanCategory, type ScanOptions, type ScanResult, type ScanSpan, type ScanThresholds, type ScanVerdict } from './types.js';

/** The thresholds chosen when the shipped model was trained (bench/scanner-train.ts). */
export const DEFAULT_THRESHOLDS: Readonly<ScanThresholds> = Object.freeze({ flag: 0.5, quarantine: 0.85, block: 0.97, ...(MODEL_WEIGHTS as StoredWeights).thresholds });
const DEFAULT_MAX_SPANS = 32;
/** Inputs longer than this are read in chunks of this many UTF-16 units... */
export const CHUNK_UNITS = 65536;
/** ...each starting this far before the previous one ended, so a directive on a cut is read whole. */
const CHUNK_OVERLAP = 1024;
/** Windows kept per scan for spans: the best ones. */
const MAX_FIRED = 16;

interface Fired {
  z: number;
  spans: ScanSpan[];
}

/**
 * The MAX_FIRED best windows of a chunk that reached the flag threshold, best first (ties: found
 * first), kept in fixed arrays; their spans are worked out only at the end of the chunk.
 */
interface Top {
  size: number;
  z: Float64Array;
  first: Int32Array;
  last: Int32Array;
  passage: Int32Array;
}

const newTop = (): Top => ({ size: 0, z: new Float64Array(MAX_FIRED), first: new Int32Array(MAX_FIRED), last: new Int32Array(MAX_FIRED), passage: new Int32Array(MAX_FIRED) });

function offer(top: Top, z: number, passage: number, first: number, last: number): void {
  if (top.size === MAX_FIRED && z <= top.z[MAX_FIRED - 1]!) return;
  let at = top.size < MAX_FIRED ? top.size++ : MAX_FIRED - 1;
  while (at > 0 && top.z[at - 1]! < z) {
    top.z[at] = top.z[at - 1]!; top.first[at] = top.first[at - 1]!; top.last[at] = top.last[at - 1]!; top.passage[at] = top.passage[at - 1]!;
    at--;
  }
  top.z[at] = z; top.first[at] = first; top.last[at] = last; top.passage[at] = passage;
}

export function resolveThresholds(partial: Partial<ScanThresholds> = {}): ScanThresholds {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...partial };
  const { flag, quarantine, block } = thresholds;
  for (const [name, value] of Object.entries(thresholds)) {
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`scanner threshold ${name} must be a number from 0 to 1, got ${value}`);
  }
  if (!(flag <= quarantine && quarantine <= block)) throw new RangeError(`scanner thresholds must satisfy flag <= quarantine <= block, got ${flag}, ${quarantine}, ${block}`);
  return thresholds;
}

export function verdictFor(score: number, thresholds: ScanThresholds): ScanVerdict {
  if (score >= thresholds.block) return 'block';
  if (score >= thresholds.quarantine) return 'quarantine';
  if (score >= thresholds.flag) return 'flag';
  return 'pass';
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => (p <= 0 ? -Infinity : p >= 1 ? Infinity : Math.log(p / (1 - p)));

let warmedUp = false;

/** Reads WARM_UP_TEXT once per process before the first input (see warm-up.ts). */
function warmUp(model: DirectiveModel): void {
  warmedUp = true;
  for (const text of WARM_UP_TEXTS) {
    const state: ScanState = { model, best: -Infinity, fireAt: -Infinity, fired: [], top: newTop() };
    scanChunk(text, 0, state, { start: true, end: true });
    collectSpans(state.fired, DEFAULT_MAX_SPANS);
  }
}

export function scanText(text: string, options: ScanOptions = {}, model: DirectiveModel = shippedModel()): ScanResult {
  if (typeof text !== 'string') throw new TypeError('scanText expects a string');
  if (!warmedUp) warmUp(model);
  const thresholds = resolveThresholds(options.thresholds);
  const maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS;
  const state: ScanState = { model, best: -Infinity, fireAt: logit(thresholds.flag), fired: [], top: newTop() };
  for (const [start, end] of chunks(text)) scanChunk(text.slice(start, end), start, state, { start: start === 0, end: end === text.length });
  const score = text.length === 0 ? 0 : roundScore(sigmoid(state.best));
  const verdict = verdictFor(score, thresholds);
  if (verdict === 'pass') return { verdict, score, categories: [], spans: [] };
  return { verdict, score, ...collectSpans(state.fired, maxSpans) };
}

/** Four decimals: enough to compare with thresholds, stable in JSON. */
const roundScore = (p: number) => Math.round(p * 1e4) / 1e4;

interface ScanState {
  model: DirectiveModel;
  best: number;
  /** Logit from which a window fires (the flag threshold). */
  fireAt: number;
  fired: Fired[];
  /** The best windows of the chunk being read that fired. */
  top: Top;
}

/** [start, end) chunks of at most CHUNK_UNITS, cut after whitespace where possible, overlapping. */
export function chunks(text: string): Array<[number, number]> {
  if (text.length <= CHUNK_UNITS) return [[0, text.length]];
  const out: Array<[number, number]> = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + CHUNK_UNITS);
    if (end < text.length) end = cutPoint(text, start + CHUNK_UNITS / 2, end);
    out.push([start, end]);
    if (end >= text.length) break;
    start = Math.max(start + 1, cutPoint(text, end - CHUNK_OVERLAP - 256, end - CHUNK_OVERLAP));
  }
  return out;
}

/** The last whitespace in [from, to) (just after it), else `to` moved off a surrogate pair. */
function cutPoint(text: string, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x20) return i + 1;
  }
  const c = text.charCodeAt(to - 1);
  return c >= 0xd800 && c <= 0xdbff ? to - 1 : to;
}

function scanChunk(chunk: string, offset: number, state: ScanState, edges?: Edges): void {
  const passages = readChunk(chunk, scoringWeights(state.model), edges);
  for (let p = 0; p < passages.length; p++) scorePassage(passages[p]!.passage, p, state);
  // Spans need the chunk's normalised text and offsets (shared buffers the next chunk overwrites):
  // work them out now, for the best windows only.
  const { top } = state;
  for (let k = 0; k < top.size; k++) {
    const { passage, start, end } = passages[top.passage[k]!]!;
    // Spans of a decoded payload point at the whole encoded run in the original.
    const map: SpanMapper = passage.extra.length === 0 ? (from, to) => mapSpan(passage, from, to, offset) : () => [offset + start, offset + end];
    const size = windowDense(passage, top.first[k]!, top.last[k]!);
    const dense: number[] = [];
    for (let j = 0; j < size; j++) { // insertion sort: a handful of features
      const d = denseList[j]!;
      let at = dense.length;
      dense.push(d);
      while (at > 0 && dense[at - 1]! > d) { dense[at] = dense[at - 1]!; at--; }
      dense[at] = d;
    }
    const window: Window = { first: top.first[k]!, last: top.last[k]!, dense };
    state.fired.push({ z: top.z[k]!, spans: windowSpans(passage, window, state.model, map) });
  }
  top.size = 0;
  if (state.fired.length > MAX_FIRED) {
    state.fired.sort((a, b) => b.z - a.z);
    state.fired.length = MAX_FIRED;
  }
}

/**
 * The passages of one chunk: its text, then each encoded payload and tag-character run it holds,
 * decoded, with the original span it came from. Training reads examples through this too.
 */
export function readChunk(chunk: string, weights: ScoringWeights | null, edges?: Edges): Array<{ passage: Passage; start: number; end: number }> {
  // Scanning (weights given) reads the main passage into reused buffers; decoded payloads get their own.
  const main = readPassage(chunk, 'text', weights, weights !== null, edges);
  const out = [{ passage: main, start: 0, end: chunk.length }];
  const payloads = decodeCandidates(chunk, main.normalized.encoded).map((p) => ({ ...p, kind: 'decoded' as PassageKind }));
  const tags = main.normalized.marks.tagRuns.map((t) => ({ ...t, kind: 'tag' as PassageKind }));
  for (const payload of [...payloads, ...tags]) {
    out.push({ passage: readPassage(payload.text, payload.kind, weights), start: payload.start, end: payload.end });
  }
  return out;
}

type SpanMapper = (from: number, to: number) => [number, number];

/** Dense features of the window being scored: a flag per feature and the list of those set (reused). */
const denseSeen = new Uint8Array(DENSE_FEATURES.length);
const denseList = new Int32Array(DENSE_FEATURES.length);

/**
 * Scores every window of the passage (the windows of passage.ts's forEachWindow, in the same
 * order) from the segments' sums: no allocation unless a window fires.
 */
function scorePassage(passage: Passage, index: number, state: ScanState): void {
  const { segments, extra } = passage;
  const { model } = state;
  const n = segments.length;
  const bias = model.bias;
  for (let first = 0; first < n; first++) {
    const start = segments[first]!.start;
    let sum = 0, count = 0, dense = extra.length > 0;
    for (let last = first; last < n && last < first + MAX_WINDOW_SEGMENTS; last++) {
      const segment = segments[last]!;
      if (last > first && segment.end - start > MAX_WINDOW_UNITS) break;
      sum += segment.sum;
      count += segment.count;
      if (segment.dense.length > 0) dense = true;
      let z = bias + (count > 0 ? sum / Math.sqrt(count + COUNT_PRIOR) : 0);
      let size = 0;
      if (dense) {
        size = windowDense(passage, first, last);
        for (let k = 0; k < size; k++) z += model.dense[denseList[k]!]!;
      }
      if (z > state.best) state.best = z;
      if (z >= state.fireAt) {
        offer(state.top, z, index, first, last);
      }
    }
  }
}

/** Puts the dense features of window [first, last] into denseList; returns how many. */
function windowDense(passage: Passage, first: number, last: number): number {
  let size = 0;
  for (const d of passage.extra) size = addDense(d, size);
  for (let s = first; s <= last; s++) for (const d of passage.segments[s]!.dense) size = addDense(d, size);
  if (denseSeen[READS_SECRETS_ID] === 1 && denseSeen[NETWORK_SEND_ID] === 1) size = addDense(CODE_EXFILTRATION, size);
  for (let k = 0; k < size; k++) denseSeen[denseList[k]!] = 0;
  return size;
}

function addDense(d: number, size: number): number {
  if (denseSeen[d] === 1) return size;
  denseSeen[d] = 1;
  denseList[size] = d;
  return size + 1;
}

/** The rule matches and traces of hidden text in a window that raised its score; else the window itself. */
function windowSpans(passage: Passage, window: Window, model: DirectiveModel, map: SpanMapper): ScanSpan[] {
  const spans: ScanSpan[] = [];
  const { segments } = passage;
  const decoded = passage.extra.length > 0;
  let strongest: { weight: number; category: ScanCategory } | undefined;
  for (const d of window.dense) {
    const weight = model.dense[d]!;
    if (weight > 0 && (!strongest || weight > strongest.weight)) strongest = { weight, category: DENSE_CATEGORY[d]! };
  }
  for (let s = window.first; s <= window.last; s++) {
    for (const hit of segments[s]!.hits) {
      if (model.dense[hit.rule]! <= 0) continue;
      const [start, end] = map(hit.start, hit.end);
      spans.push({ start, end, category: RULES[hit.rule]!.category, reason: RULES[hit.rule]!.id });
    }
  }
  const from = segments[window.first]!.start;
  const to = trimEnd(passage.normalized.units, from, segments[window.last]!.end);
  if (!decoded) spans.push(...hiddenMarkSpans(passage, from, to, map));
  if (spans.length === 0 || decoded) {
    const [start, end] = map(from, to);
    spans.push({ start, end, category: decoded ? 'hidden_text' : strongest?.category ?? 'instruction_override', reason: decoded ? 'decoded_payload' : 'model' });
  }
  return spans;
}

function trimEnd(units: Uint16Array, from: number, to: number): number {
  while (to > from && (units[to - 1] === 0x20 || units[to - 1] === 0x0a)) to--;
  return to;
}

/** Invisible characters, bidi controls, look-alikes and spaced-out letters inside [from, to) (normalised). */
function hiddenMarkSpans(passage: Passage, from: number, to: number, map: SpanMapper): ScanSpan[] {
  const { marks, start } = passage.normalized;
  const [originFrom, originTo] = map(from, to);
  const shift = originFrom - start[from]!; // the chunk offset
  const inside = (o: number) => o + shift >= originFrom && o + shift < originTo;
  const spans: ScanSpan[] = [];
  const add = (o: number, length: number, reason: string) => spans.push({ start: o + shift, end: o + shift + length, category: 'hidden_text', reason });
  for (const o of marks.invisibleInWord) if (inside(o)) add(o, 1, 'hidden.invisible_character');
  for (const o of marks.bidi) if (inside(o)) add(o, 1, 'hidden.bidi_control');
  for (const o of marks.homoglyphs) if (inside(o)) add(o, 1, 'hidden.homoglyph');
  for (const [s, e] of marks.spacedRuns) if (inside(s)) add(s, e - s, 'hidden.spaced_letters');
  return spans;
}

/** Original span of normalised [from, to) of a passage read from a chunk at `offset`. */
function mapSpan(passage: Passage, from: number, to: number, offset: number): [number, number] {
  const { start } = passage.normalized;
  if (to <= from) return [offset + (start[from] ?? 0), offset + (start[from] ?? 0)];
  return [offset + start[from]!, offset + originalEnd(passage.normalized, to - 1)];
}

function collectSpans(fired: Fired[], maxSpans: number): { categories: ScanCategory[]; spans: ScanSpan[] } {
  const ordered = [...fired].sort((a, b) => b.z - a.z);
  const seen = new Set<string>();
  const spans: ScanSpan[] = [];
  for (const f of ordered) {
    for (const span of f.spans) {
      const key = `${span.start}:${span.end}:${span.reason}`;
      if (seen.has(key) || spans.length >= maxSpans) continue;
      seen.add(key);
      spans.push(span);
    }
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  const present = new Set(spans.map((s) => s.category));
  return { categories: SCAN_CATEGORIES.filter((c) => present.has(c)), spans };
}
