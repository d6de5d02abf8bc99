// The hash of one audit record. Defined in docs/audit.md ("Hash chain"); in short:
//
//   hash = lowercase hex SHA-256 of the UTF-8 bytes of
//          canonicalJson({ actor, kind, payload, prev_hash, sandbox, seq, ts })
//
// with `actor` and `sandbox` null when absent, `payload` the record's JSON value and
// `prev_hash` the previous record's hash (GENESIS_HASH for seq 1).
//
// The store keeps `payload` as canonical JSON text, so the input is built here by splicing that
// text in verbatim instead of parsing and re-serialising it: same bytes, a fraction of the work.
// A test checks this against canonicalJson() of the parsed record.
import crypto from 'node:crypto';
import { AUDIT_GENESIS_HASH } from '../store/index.js';

export const GENESIS_HASH = AUDIT_GENESIS_HASH;

export interface HashedFields {
  seq: number;
  ts: string;
  kind: string;
  sandbox: string | null;
  actor: string | null;
  prevHash: string;
}

const optional = (value: string | null) => value === null ? 'null' : JSON.stringify(value);

/** The exact text that is hashed; `payloadText` must be canonical JSON. Keys in sorted order. */
export function hashInput(fields: HashedFields, payloadText: string): string {
  return `{"actor":${optional(fields.actor)},"kind":${JSON.stringify(fields.kind)},"payload":${payloadText}` +
    `,"prev_hash":${JSON.stringify(fields.prevHash)},"sandbox":${optional(fields.sandbox)}` +
    `,"seq":${JSON.stringify(fields.seq)},"ts":${JSON.stringify(fields.ts)}}`;
}

// crypto.hash (Node >= 20.12) is a one-shot call, about twice as fast as createHash for short
// inputs; verification speed is mostly this. Both hash the string's UTF-8 bytes.
const sha256Hex: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

export function recordHash(fields: HashedFields, payloadText: string): string {
  return sha256Hex(hashInput(fields, payloadText));
}
