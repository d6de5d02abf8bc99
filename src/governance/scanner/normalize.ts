// Normalisation: the text the rules and the model read. Every normalised UTF-16 unit remembers
// where in the original text it came from, so that what fires can be pointed at in the input.
//
// One pass over the input, no regular expressions over it:
//  - per code point: NFKC, accents stripped (Latin, Greek, Cyrillic only), lower case; invisible
//    characters dropped (and remembered); whitespace runs collapsed to one space or one newline;
//    Unicode tag characters decoded on the side; typographic quotes and dashes made ASCII;
//  - per word, as it ends: look-alike letters folded to Latin in mixed-script words, leetspeak
//    (1gn0r3) folded in words that mix letters with digits or $@!|;
//  - runs of five or more single letters spaced out ("i g n o r e", "i_g_n_o_r_e") are joined
//    (a second, rare pass).
import { CONFUSABLES } from './confusables.js';
import { BASE64, ENCODING_CLASS, ESCAPE, isHexChar, LOWER, NOT_HEX, MIN_ENCODED_RUN, MIN_ESCAPES, PRINTABLE, SEPARATOR, UPPER, type EncodedCandidate } from './decode.js';

export interface TagRun {
  /** Original span of the tag characters. */
  start: number;
  end: number;
  /** The ASCII text they spell. */
  text: string;
}

/** Traces of text hidden from a human reader, as original offsets. */
export interface HiddenMarks {
  /** Zero-width characters between two Latin letters (a word split invisibly). */
  invisibleInWord: number[];
  /** Bidirectional embeddings, overrides and isolates (they reorder what a reader sees). */
  bidi: number[];
  tagRuns: TagRun[];
  /** Look-alike letters folded to Latin inside words that also have Latin letters. */
  homoglyphs: number[];
  /** Spaced-out letters that were joined: [start, end) spans. */
  spacedRuns: Array<[number, number]>;
  /** Starts of runs of four or more words in capitals, in a text that is otherwise lower case ("How do I DO NOT ANSWER BUT SAY ..."). */
  shouting: number[];
}

export interface Normalized {
  /** The original text. */
  readonly source: string;
  /** The normalised text (decoded from `units` on first use). */
  readonly text: string;
  /** The normalised text as UTF-16 units (for normalize(text, true): a shared buffer, valid until the next such call). */
  readonly units: Uint16Array;
  /** For each UTF-16 unit of `text`: the offset in `source` of the code point it came from. */
  start: Int32Array;
  marks: HiddenMarks;
  /** Stretches of `source` that may be base64, hex or escaped text (decode.ts decides). */
  encoded: EncodedCandidate[];
}

class NormalizedText implements Normalized {
  private decoded: string | undefined;
  constructor(readonly source: string, readonly units: Uint16Array, readonly start: Int32Array, readonly marks: HiddenMarks, readonly encoded: EncodedCandidate[]) {}

  /** Decoded on first use: scanning reads units and never needs the whole text as a string. */
  get text(): string {
    this.decoded ??= decodeUnits(this.units, 0, this.units.length);
    return this.decoded;
  }
}

/** Units [from, to) as a string. */
export function decodeUnits(units: Uint16Array, from: number, to: number): string {
  return decoder.decode(units.subarray(from, to));
}

/** End offset in the original of normalised unit k (exclusive). */
export function originalEnd(n: Normalized, k: number): number {
  const at = n.start[k]!;
  const c = n.source.charCodeAt(at);
  return at + (c >= 0xd800 && c <= 0xdbff ? 2 : 1);
}

const enum Kind {
  Unknown = 0,
  Char = 1,
  Drop = 2,
  ZeroWidth = 3,
  Bidi = 4,
  Space = 5,
  Newline = 6,
  Multi = 7,
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

const kindTable = new Uint8Array(0x10000);
const charTable = new Uint16Array(0x10000);
const multiTable = new Map<number, string>();
const astralTable = new Map<number, string>();
/** 1: a letter, mark or digit (part of a word); 2: not. 0: not yet looked up. */
const wordCharTable = new Uint8Array(0x10000);
/** Confusable (lower case) -> Latin letter; 0 when none. */
const confusableTable = new Uint16Array(0x10000);
for (const [from, to] of CONFUSABLES) if (from < 0x10000) confusableTable[from] = to;

const ZERO_WIDTH = new Set([0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x180e, 0x00ad, 0x034f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xffa0]);
const BIDI = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
const NEWLINES = new Set([0x0085, 0x2028, 0x2029]);
const LATIN_LIKE = /^[\u0000-\u052f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f]*$/;

/** Typographic quotes and dashes, which NFKC keeps, as their ASCII forms. */
const PUNCTUATION: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '\u00b4': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"', '\u00ab': '"', '\u00bb': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
};

function isDroppedFormat(cp: number): boolean {
  // LRM, RLM and ALM are common in right-to-left text: dropped without comment.
  return cp === 0x200e || cp === 0x200f || cp === 0x061c || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x206a && cp <= 0x206f) ||
    (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0x180b && cp <= 0x180f) || (cp >= 0x0300 && cp <= 0x036f);
}

function foldString(raw: string): string {
  const punctuation = PUNCTUATION[raw];
  if (punctuation !== undefined) return punctuation;
  let s = raw.normalize('NFKC');
  if (LATIN_LIKE.test(s)) s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return s.toLowerCase();
}

function classifyBmp(cp: number): Kind {
  let kind: Kind;
  if (ZERO_WIDTH.has(cp)) kind = Kind.ZeroWidth;
  else if (BIDI.has(cp)) kind = Kind.Bidi;
  else if (NEWLINES.has(cp)) kind = Kind.Newline;
  else if (isDroppedFormat(cp) || (cp >= 0xd800 && cp <= 0xdfff)) kind = Kind.Drop;
  else if (/^\s$/.test(String.fromCharCode(cp))) kind = Kind.Space;
  else {
    const folded = foldString(String.fromCharCode(cp));
    if (folded.length === 0) kind = Kind.Drop;
    else if (folded.length === 1) { kind = Kind.Char; charTable[cp] = folded.charCodeAt(0); } else { kind = Kind.Multi; multiTable.set(cp, folded); }
  }
  kindTable[cp] = kind;
  return kind;
}

for (let c = 0; c < 0x80; c++) {
  if (c === NEWLINE) kindTable[c] = Kind.Newline;
  else if (c <= 0x20 || c === 0x7f) kindTable[c] = Kind.Space;
  else { kindTable[c] = Kind.Char; charTable[c] = c >= 0x41 && c <= 0x5a ? c + 32 : c; }
  wordCharTable[c] = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ? 1 : 2;
}

export function isWordChar(c: number): boolean {
  let v = wordCharTable[c]!;
  if (v === 0) {
    v = /[\p{L}\p{M}\p{N}]/u.test(String.fromCharCode(c)) ? 1 : 2;
    wordCharTable[c] = v;
  }
  return v === 1;
}

/** Leetspeak digits and symbols -> the letters they stand for (0 when none). */
const LEET = new Uint8Array(0x80);
for (const [from, to] of [['0', 'o'], ['1', 'i'], ['3', 'e'], ['4', 'a'], ['5', 's'], ['7', 't'], ['8', 'b'], ['@', 'a'], ['$', 's'], ['!', 'i'], ['|', 'l']]) {
  LEET[from!.charCodeAt(0)] = to!.charCodeAt(0);
}
const isLeetSymbol = (c: number) => c === 0x40 || c === 0x24 || c === 0x21 || c === 0x7c;

/** Characters that may separate spaced-out letters. */
const SPACING = new Uint8Array(0x100);
for (const c of [SPACE, 0x5f, 0x2e, 0x2d, 0x2a, 0xb7, 0x2f, 0x2b]) SPACING[c] = 1;
const MIN_SPACED_LETTERS = 5;

/** A Latin letter: zero-width characters between two of them split a word (elsewhere they can be legitimate: Persian, Indic scripts, emoji). */
function isLatinLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7);
}

function nextVisibleIsLatinLetter(input: Uint16Array, n: number, from: number): boolean {
  for (let j = from; j < n && j < from + 8; j++) {
    const c = input[j]!;
    if (!ZERO_WIDTH.has(c)) return isLatinLetter(c);
  }
  return false;
}

const decoder = new TextDecoder('utf-16le');

/** Unit classes for the word pass. */
const enum Unit {
  Unknown = 0,
  Latin = 1,
  Digit = 2,
  LeetSymbol = 3,
  Confusable = 4,
  OtherLetter = 5,
  NotWord = 6,
}

const unitClass = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) {
  unitClass[c] = c >= 0x61 && c <= 0x7a ? Unit.Latin : c >= 0x30 && c <= 0x39 ? Unit.Digit : isLeetSymbol(c) ? Unit.LeetSymbol : Unit.NotWord;
}

function classOf(u: number): Unit {
  let k = unitClass[u]! as Unit;
  if (k === Unit.Unknown) {
    k = confusableTable[u] !== 0 ? Unit.Confusable : isWordChar(u) ? Unit.OtherLetter : Unit.NotWord;
    unitClass[u] = k;
  }
  return k;
}

/**
 * The input's UTF-16 units, copied natively (Buffer.write): reading a typed array is faster than
 * charCodeAt on a string, above all on sliced and concatenated strings.
 */
let sourceBuffer: Buffer = Buffer.allocUnsafeSlow(0);
let sourceUnits: Uint16Array = new Uint16Array(0);

function sourceOf(input: string): Uint16Array {
  if (sourceUnits.length < input.length) {
    sourceBuffer = Buffer.allocUnsafeSlow(2 * (input.length + 1024)); // not pooled: offset 0, aligned
    sourceUnits = new Uint16Array(sourceBuffer.buffer, sourceBuffer.byteOffset, input.length + 1024);
  }
  sourceBuffer.write(input, 0, 'utf16le');
  return sourceUnits;
}

/** Counts %XX, \\xXX and \\uXXXX escapes starting at i (0 or 1). */
function escapeAt(src: Uint16Array, n: number, i: number): number {
  const c = src[i]!;
  if (c === 0x25) return i + 2 < n && isHexChar(src[i + 1]!) && isHexChar(src[i + 2]!) ? 1 : 0;
  const next = i + 1 < n ? src[i + 1]! : 0;
  return c === 0x5c && (next === 0x78 || next === 0x75) ? 1 : 0;
}

/**
 * A run of capital words is shouting, not a name or a code, when it reads as a sentence: it has a
 * function word or a verb of command in it ("DO NOT ANSWER", "WA DEPT REVENUE" is not).
 */
const SHOUTED_SENTENCE = /\b(?:THE|NOT|DO|DON'T|AND|BUT|SAY|YOU|YOUR|ALL|IS|ARE|TO|OF|THIS|THAT|IT|IGNORE|FORGET|WRITE|ANSWER|JUST|ONLY|PRINT|OUTPUT|STOP|REPLY|NICHT|UND|ABER|DU|DEINE|SAG|SCHREIBE|ALLES|VERGISS|IGNORIERE|ET|TOUT|DIS|NE|PAS|LE|LA|Y|NO|DI|TODO|OLVIDA|EL|LOS|QUE)\b/;

/** Buffers reused by normalize(text, true): allocating and zeroing them per call costs more than filling them. */
let sharedUnits: Uint16Array = new Uint16Array(0);
let sharedStart: Int32Array = new Int32Array(0);

/** ASCII classes for the fused pass: the encoding classes of decode.ts, plus whether the unit is a letter, or a digit or leet symbol. */
const ASCII_LETTER = 256, ASCII_SPECIAL = 512;
const ASCII_CLASS = new Uint16Array(0x80);
for (let c = 0; c < 0x80; c++) {
  ASCII_CLASS[c] = ENCODING_CLASS[c]! | ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? ASCII_LETTER : 0) | ((c >= 0x30 && c <= 0x39) || isLeetSymbol(c) ? ASCII_SPECIAL : 0);
}

// The spaced-out-letter runs being found (shared by the fast path and foldRange; normalize is not re-entrant).
const runs: Array<[number, number]> = [];
let runStart = -1, runLetters = 0, lastSingle = -2;

/** A word of one letter at unit `word`: it extends the spaced-out run when one spacing character separates it from the previous one. */
function singleLetter(units: Uint16Array, word: number): void {
  if (runStart >= 0 && word === lastSingle + 2 && SPACING[units[word - 1]!] === 1) runLetters++;
  else {
    if (runLetters >= MIN_SPACED_LETTERS) runs.push([runStart, lastSingle + 1]);
    runStart = word;
    runLetters = 1;
  }
  lastSingle = word;
}

/**
 * With `reuse`, the result's `start` lives in a buffer the next reusing call overwrites: use it
 * before normalising anything else that way.
 */
export function normalize(input: string, reuse = false): Normalized {
  let capacity = input.length + (reuse ? 1024 : 64);
  for (;;) {
    let units: Uint16Array, start: Int32Array;
    if (reuse) {
      if (sharedUnits.length < capacity) {
        sharedUnits = new Uint16Array(capacity);
        sharedStart = new Int32Array(capacity);
      }
      units = sharedUnits; start = sharedStart;
    } else {
      units = new Uint16Array(capacity); start = new Int32Array(capacity);
    }
    const marks: HiddenMarks = { invisibleInWord: [], bidi: [], tagRuns: [], homoglyphs: [], spacedRuns: [], shouting: [] };
    const encoded: EncodedCandidate[] = [];
    runs.length = 0;
    runStart = -1; runLetters = 0; lastSingle = -2;
    let length = foldCodePoints(input, marks, encoded, units, start);
    if (length < 0) { capacity = 2 * capacity + 64; continue; } // characters that fold to several units filled the buffers
    while (length > 0 && (units[length - 1] === SPACE || units[length - 1] === NEWLINE)) length--;
    if (runs.length > 0) length = joinRuns(units, start, length, runs, marks);
    return new NormalizedText(input, units.subarray(0, length), start.subarray(0, length), marks, encoded);
  }
}

/**
 * One pass over the input: code points to folded units (whitespace collapsed, invisible characters
 * dropped), and, per word as it ends, look-alikes and leetspeak folded and spaced-out letters
 * found. Words of ASCII letters only (almost all) need nothing but the single-letter check; any
 * other word is handed to foldRange.
 */
function foldCodePoints(input: string, marks: HiddenMarks, encoded: EncodedCandidate[], units: Uint16Array, start: Int32Array): number {
  let length = 0;
  let last = NEWLINE; // as if after a line break: leading whitespace is dropped
  // Tag characters: the run being decoded ends where the next tag character does not follow it.
  let tagText = '', tagStart = -1, tagEnd = -1;
  let flagEnd = -1; // tag characters right after U+1F3F4 spell a flag, not text
  // Words in capitals: letters of the current word by case, the run of capital words, words in lower case seen.
  let upper = 0, lower = 0, capitalWords = 0, capitalStart = -1, wordStart = 0, lowerWords = 0;
  const shouting: number[] = [];
  // Candidate encoded payloads: the base64-alphabet run being read and the classes in it; the token (no separators) and its escapes.
  let run = -1, classes = 0, token = -1, escapes = 0;
  // The word being written (units): where it starts, and whether it has anything but ASCII letters.
  let word = -1, special = false;
  const n = input.length;
  const src = sourceOf(input);
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    if (c < 0x80) {
      const k = ASCII_CLASS[c]!;
      if ((k & BASE64) !== 0) { if (run < 0) { run = i; classes = 0; } classes |= k & 0xff; } else if (run >= 0) { if (i - run >= MIN_ENCODED_RUN) encoded.push([run, i, classes]); run = -1; }
      if ((k & SEPARATOR) !== 0) { if (escapes >= MIN_ESCAPES) encoded.push([token, i, ESCAPE]); token = -1; escapes = 0; } else if (token < 0) token = i;
      if ((k & ESCAPE) !== 0) escapes += escapeAt(src, n, i);
      if ((k & PRINTABLE) !== 0) {
        if ((k & UPPER) !== 0) { if (upper + lower === 0) wordStart = i; upper++; units[length] = c + 32; } else { if ((k & LOWER) !== 0) { if (upper + lower === 0) wordStart = i; lower++; } units[length] = c; }
        start[length++] = i;
        last = c;
        if ((k & ASCII_LETTER) !== 0) {
          if (word < 0) { word = length - 1; special = false; }
          // The lower-case letters that follow, in a tight loop: each only extends what this one started.
          const from = i;
          while (i + 1 < n) {
            const d = src[i + 1]!;
            if (d < 0x61 || d > 0x7a) break;
            i++;
            units[length] = d;
            start[length++] = i;
            if (d > 0x66) classes |= NOT_HEX;
          }
          if (i > from) { lower += i - from; classes |= BASE64 | LOWER | PRINTABLE; last = units[length - 1]!; }
        } else if ((k & ASCII_SPECIAL) !== 0) { if (word < 0) word = length - 1; special = true; } else if (word >= 0) { endWord(units, start, word, length - 1, length, special, marks); word = -1; }
        continue;
      }
      if (upper + lower > 0) {
        if (lower === 0 && upper >= 2) { if (capitalWords++ === 0) capitalStart = wordStart; if (capitalWords === 4) shouting.push(capitalStart); } else if (lower > 0) { capitalWords = 0; lowerWords++; }
        upper = lower = 0;
      }
      if (c === NEWLINE) {
        if (last === SPACE && length > 0) { units[length - 1] = NEWLINE; last = NEWLINE; } else if (last !== NEWLINE) { units[length] = NEWLINE; start[length++] = i; last = NEWLINE; }
      } else if (last !== SPACE && last !== NEWLINE) { units[length] = SPACE; start[length++] = i; last = SPACE; }
      if (word >= 0) { endWord(units, start, word, length - 1, length, special, marks); word = -1; }
      continue;
    }
    if (run >= 0) { if (i - run >= MIN_ENCODED_RUN) encoded.push([run, i, classes]); run = -1; }
    if (token < 0) token = i;
    // Beyond ASCII: up to a few units per code point (NFKC of a ligature); without room, normalize retries with more.
    if (length + 32 > units.length) return -1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && src[i + 1]! >= 0xdc00 && src[i + 1]! <= 0xdfff) {
      const cp = ((c - 0xd800) << 10) + (src[i + 1]! - 0xdc00) + 0x10000;
      if (cp >= 0xe0000 && cp <= 0xe007f) {
        if (i === flagEnd) flagEnd = i + 2;
        else if (cp >= 0xe0020 && cp <= 0xe007e) {
          if (tagStart >= 0 && i !== tagEnd) { marks.tagRuns.push({ start: tagStart, end: tagEnd, text: tagText }); tagText = ''; tagStart = -1; }
          if (tagStart < 0) tagStart = i;
          tagText += String.fromCharCode(cp - 0xe0000);
          tagEnd = i + 2;
        }
        i++;
        continue;
      }
      if (cp === 0x1f3f4) flagEnd = i + 2;
      if (!(cp >= 0xe0100 && cp <= 0xe01ef)) { // variation selectors are dropped
        let folded = astralTable.get(cp);
        if (folded === undefined) { folded = foldString(String.fromCodePoint(cp)); astralTable.set(cp, folded); }
        if (folded.length > 0) { if (word < 0) word = length; special = true; }
        for (let k = 0; k < folded.length && k < 32; k++) { units[length] = folded.charCodeAt(k); start[length++] = i; last = folded.charCodeAt(k); }
      }
      i++;
      continue;
    }
    let kind = kindTable[c]! as Kind;
    if (kind === Kind.Unknown) kind = classifyBmp(c);
    if (kind === Kind.Char) {
      const u = charTable[c]!;
      if (word < 0) word = length;
      special = true;
      units[length] = u; start[length++] = i; last = u;
      continue;
    }
    switch (kind) {
      case Kind.Space:
        if (last !== SPACE && last !== NEWLINE) { units[length] = SPACE; start[length++] = i; last = SPACE; }
        if (word >= 0) { endWord(units, start, word, length - 1, length, special, marks); word = -1; }
        break;
      case Kind.Newline:
        if (last === SPACE && length > 0) { units[length - 1] = NEWLINE; last = NEWLINE; } else if (last !== NEWLINE) { units[length] = NEWLINE; start[length++] = i; last = NEWLINE; }
        if (word >= 0) { endWord(units, start, word, length - 1, length, special, marks); word = -1; }
        break;
      case Kind.ZeroWidth:
        if (i > 0 && isLatinLetter(src[i - 1]!) && nextVisibleIsLatinLetter(src, n, i + 1)) marks.invisibleInWord.push(i);
        break;
      case Kind.Bidi:
        marks.bidi.push(i);
        break;
      case Kind.Multi: {
        const folded = multiTable.get(c)!;
        if (word < 0) word = length;
        special = true;
        for (let k = 0; k < folded.length && k < 32; k++) { units[length] = folded.charCodeAt(k); start[length++] = i; }
        last = folded.charCodeAt(folded.length - 1);
        break;
      }
      default:
        break; // dropped
    }
  }
  if (word >= 0) endWord(units, start, word, length, length, special, marks);
  if (runLetters >= MIN_SPACED_LETTERS) runs.push([runStart, lastSingle + 1]);
  if (tagStart >= 0) marks.tagRuns.push({ start: tagStart, end: tagEnd, text: tagText });
  if (lowerWords >= 4) for (const at of shouting) if (SHOUTED_SENTENCE.test(input.slice(at, at + 120))) marks.shouting.push(at);
  if (run >= 0 && n - run >= MIN_ENCODED_RUN) encoded.push([run, n, classes]);
  if (escapes >= MIN_ESCAPES) encoded.push([token, n, ESCAPE]);
  return length;
}

/** A word (units [from, to), `length` units written so far) has ended. */
function endWord(units: Uint16Array, start: Int32Array, from: number, to: number, length: number, special: boolean, marks: HiddenMarks): void {
  if (special) foldRange(units, start, from, to, length, marks);
  else if (to - from === 1) singleLetter(units, from);
}

/**
 * Units [from, to) that may hold words with digits, leet symbols or letters beyond ASCII: fold
 * look-alikes and leetspeak in place (one unit for one unit), and note single letters.
 */
function foldRange(units: Uint16Array, start: Int32Array, from: number, to: number, length: number, marks: HiddenMarks): void {
  let i = from;
  while (i < to) {
    let k = classOf(units[i]!);
    // $ @ ! | count as letters only inside a word ("p@ss", not "<|im_start|>" or "@team").
    if (k === Unit.NotWord || k === Unit.LeetSymbol) { i++; continue; }
    const word = i;
    let latin = 0, confusable = 0, other = 0, leet = 0, digitRun = 0, maxDigitRun = 0;
    while (i < to) {
      k = classOf(units[i]!);
      if (k === Unit.Latin) { latin++; digitRun = 0; } else if (k === Unit.Digit) { if (++digitRun > maxDigitRun) maxDigitRun = digitRun; if (LEET[units[i]!] !== 0) leet++; } else if (k === Unit.LeetSymbol) {
        if (i + 1 >= to || classOf(units[i + 1]!) === Unit.NotWord) break; // "hello!": punctuation, not leet
        leet++; digitRun = 0;
      } else if (k === Unit.Confusable) { confusable++; digitRun = 0; } else if (k === Unit.OtherLetter) { other++; digitRun = 0; } else break;
      i++;
    }
    const end = i;
    if (end - word === 1 && latin + confusable + other === 1) singleLetter(units, word);
    if (confusable > 0 && (latin > 0 || (other === 0 && confusable >= 4))) {
      for (let j = word; j < end; j++) {
        const to = confusableTable[units[j]!]!;
        if (to === 0) continue;
        units[j] = to;
        if (latin > 0) marks.homoglyphs.push(start[j]!);
      }
      latin += confusable;
    }
    if (leet > 0 && latin >= 1 && end - word >= 2 && maxDigitRun < 3 && other === 0) {
      const domainAfter = end < length && units[end] === 0x2e;
      for (let j = word; j < end; j++) {
        const c = units[j]!;
        if (c < 0x80 && LEET[c] !== 0 && !(c === 0x40 && domainAfter)) units[j] = LEET[c]!;
      }
    }
  }
}

/** Removes the separators inside runs of spaced-out letters. */
function joinRuns(units: Uint16Array, start: Int32Array, length: number, runs: Array<[number, number]>, marks: HiddenMarks): number {
  // Units before the first run stay where they are.
  let write = runs[0]![0], r = 0;
  for (let k = write; k < length; k++) {
    const run = runs[r];
    if (run && k >= run[0] && k < run[1]) {
      if ((k - run[0]) % 2 === 1) continue; // a separator inside the run
      if (k === run[1] - 1) { marks.spacedRuns.push([start[run[0]]!, start[k]! + 1]); r++; }
    }
    units[write] = units[k]!;
    start[write] = start[k]!;
    write++;
  }
  return write;
}
