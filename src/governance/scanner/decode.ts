// Encoded payloads: base64, hex, URL-encoding and \x / \u escapes whose decoded form is text.
// Found with one pass over the original characters (no regular expression), decoded within a
// fixed budget per scan so that megabytes of base64 images cost a scan nothing but the pass.
import { Buffer } from 'node:buffer';

export interface EncodedPayload {
  /** Original span of the encoded text. */
  start: number;
  end: number;
  /** What it decodes to. */
  text: string;
}

const MIN_BASE64 = 20;
/** At most this many encoded characters of one run are decoded. */
const MAX_RUN = 8192;
/** At most this many encoded characters are decoded per scan. */
const MAX_TOTAL = 65536;

const utf8 = new TextDecoder('utf-8');

/** Character classes for ASCII, a bit each: normalize.ts finds candidate runs with them as it reads. */
export const BASE64 = 1, NOT_HEX = 2, UPPER = 4, LOWER = 8, SEPARATOR = 16, ESCAPE = 32, PRINTABLE = 64;
export const ENCODING_CLASS = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++) {
  const upper = c >= 0x41 && c <= 0x5a, lower = c >= 0x61 && c <= 0x7a, digit = c >= 0x30 && c <= 0x39;
  let k = 0;
  if (upper || lower || digit || c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f || c === 0x3d) k |= BASE64;
  if (!(digit || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) k |= NOT_HEX;
  if (upper) k |= UPPER;
  if (lower) k |= LOWER;
  if (c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x28 || c === 0x29 || c === 0x7f) k |= SEPARATOR;
  if (c === 0x25 || c === 0x5c) k |= ESCAPE;
  if (c > 0x20 && c !== 0x7f) k |= PRINTABLE;
  ENCODING_CLASS[c] = k;
}
export const isHexChar = (c: number) => c < 0x80 && (ENCODING_CLASS[c]! & NOT_HEX) === 0;

/** A stretch of the original that may be encoded: [start, end) and the classes seen in it (ESCAPE: a token with %XX or \\x escapes). */
export type EncodedCandidate = [start: number, end: number, classes: number];

/** Shortest base64 or hex run worth decoding. */
export const MIN_ENCODED_RUN = 16;
/** Escapes a token needs to be decoded. */
export const MIN_ESCAPES = 4;

/** Decoded bytes that read as natural-language text: mostly letters, some spaces, no control bytes. */
export function looksLikeText(text: string): boolean {
  if (text.length < 8) return false;
  let letters = 0, spaces = 0, bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20) spaces++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c >= 0xc0) letters++;
    if (c === 0xfffd || (c < 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d)) bad++;
  }
  return bad === 0 && spaces >= 1 && (letters + spaces) / text.length >= 0.7;
}

/** The candidates that decode to text, within the per-scan budget. */
export function decodeCandidates(text: string, candidates: readonly EncodedCandidate[]): EncodedPayload[] {
  const found: EncodedPayload[] = [];
  let budget = MAX_TOTAL;
  for (const [start, end, classes] of candidates) {
    if (budget <= 0) break;
    let decode: ((encoded: string) => string | null) | undefined;
    const length = end - start;
    if ((classes & ESCAPE) !== 0) decode = decodeEscapes;
    else if ((classes & NOT_HEX) === 0) { if (length % 2 === 0) decode = decodeHex; } else if ((classes & UPPER) !== 0 && (classes & LOWER) !== 0 && length >= MIN_BASE64) decode = decodeBase64;
    if (!decode) continue;
    const take = Math.min(length, MAX_RUN, budget);
    budget -= take;
    const decoded = decode(text.slice(start, start + take));
    if (decoded !== null && looksLikeText(decoded)) found.push({ start, end, text: decoded });
  }
  return found;
}

function decodeBase64(encoded: string): string | null {
  const body = encoded.replace(/=+$/, '');
  const usable = body.length - (body.length % 4 === 1 ? 1 : 0);
  if (usable < MIN_BASE64) return null;
  const url = body.includes('-') || body.includes('_');
  return utf8.decode(Buffer.from(body.slice(0, usable), url ? 'base64url' : 'base64'));
}

function decodeHex(encoded: string): string | null {
  return utf8.decode(Buffer.from(encoded, 'hex'));
}

/** %XX, \xXX and \uXXXX escapes (with anything else kept as it is). */
function decodeEscapes(encoded: string): string | null {
  let bytes: number[] = [];
  let out = '';
  const flush = () => { if (bytes.length > 0) { out += utf8.decode(Uint8Array.from(bytes)); bytes = []; } };
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x25 && i + 2 < encoded.length && isHexChar(encoded.charCodeAt(i + 1)) && isHexChar(encoded.charCodeAt(i + 2))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16)); i += 2; continue;
    }
    if (c === 0x5c && encoded[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 2, i + 4))) {
      bytes.push(parseInt(encoded.slice(i + 2, i + 4), 16)); i += 3; continue;
    }
    flush();
    if (c === 0x5c && encoded[i + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(encoded.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(encoded.slice(i + 2, i + 6), 16)); i += 5; continue;
    }
    out += c === 0x2b ? ' ' : encoded[i];
  }
  flush();
  return out;
}
