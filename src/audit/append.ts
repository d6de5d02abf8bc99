import type { AuditPosition, Store } from '../store/index.js';
import { canonicalJson, CanonicalJsonError } from './canonical.js';
import { GENESIS_HASH, recordHash } from './chain.js';
import { redactValue } from './redact.js';

/**
 * What a caller appends. The log assigns seq, ts, prev_hash and hash.
 * SECURITY: the payload is kept forever; it is stored as redactValue returns it (redact.ts).
 */
export interface AuditEntry {
  /** Dotted lowercase name of what happened, e.g. 'egress.verdict', 'sandbox.created', 'policy.revision'. */
  kind: string;
  sandbox?: string | null;
  /** Who caused it, e.g. 'cli uid=1000', 'gateway', 'operator alice'. */
  actor?: string | null;
  /** Any JSON value; default {}. */
  payload?: unknown;
}

export interface AuditRecord {
  seq: number;
  /** ISO-8601 UTC time of the append (informational: seq, not ts, orders the log). */
  ts: string;
  kind: string;
  sandbox: string | null;
  actor: string | null;
  payload: unknown;
  prevHash: string;
  hash: string;
}

/** The log cannot be appended to safely (its tail and its head disagree, or its head is gone). */
export class AuditIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditIntegrityError';
  }
}

/** An entry refused before anything was written. */
export class AuditEntryError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'AuditEntryError';
  }
}

export const MAX_PAYLOAD_BYTES = 1024 * 1024;
const KIND = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const MAX_KIND = 64;
const MAX_NAME = 256;

interface PreparedEntry {
  kind: string;
  sandbox: string | null;
  actor: string | null;
  payload: unknown;
  payloadText: string;
}

// With the u flag a valid surrogate pair is one code point, so this matches only lone halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function optionalName(what: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME) throw new AuditEntryError(`audit ${what} must be a non-empty string of at most ${MAX_NAME} characters`);
  // SQLite stores text as UTF-8, which cannot hold a lone surrogate: it would come back changed
  // and the record would no longer match its hash. (Payload strings are safe: canonical JSON
  // escapes lone surrogates as \uXXXX.)
  if (LONE_SURROGATE.test(value)) throw new AuditEntryError(`audit ${what} is not well-formed Unicode (lone surrogate)`);
  return value;
}

/** Validates and serialises an entry; runs before any lock is taken. */
export function prepareEntry(entry: AuditEntry): PreparedEntry {
  if (typeof entry?.kind !== 'string' || entry.kind.length > MAX_KIND || !KIND.test(entry.kind)) {
    throw new AuditEntryError(`audit kind ${JSON.stringify(entry?.kind)} is not a dotted lowercase name like 'egress.verdict'`);
  }
  const payload = entry.payload === undefined ? {} : redactValue(entry.payload);
  let payloadText: string;
  try {
    payloadText = canonicalJson(payload);
  } catch (error) {
    if (error instanceof CanonicalJsonError) throw new AuditEntryError(`audit payload of ${entry.kind}: ${error.message}`);
    throw error;
  }
  if (Buffer.byteLength(payloadText, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new AuditEntryError(`audit payload of ${entry.kind} is larger than ${MAX_PAYLOAD_BYTES} bytes: record a summary or a digest instead`);
  }
  return {
    kind: entry.kind,
    sandbox: optionalName('sandbox', entry.sandbox),
    actor: optionalName('actor', entry.actor),
    payload,
    payloadText,
  };
}

/**
 * The position to chain onto. Refuses to append when the stored head and the last record
 * disagree: appending would move the head and erase the evidence of a truncated or extended log.
 */
function chainTip(store: Store): AuditPosition {
  const head = store.auditRows.head();
  if (head === undefined) throw new AuditIntegrityError('the audit head is missing, so the log may have been truncated: run `warden audit verify`; nothing was appended');
  const last = store.auditRows.last() ?? { seq: 0, hash: GENESIS_HASH };
  if (last.seq !== head.seq || last.hash !== head.hash) {
    throw new AuditIntegrityError(`the last audit record (seq ${last.seq}) does not match the audit head (seq ${head.seq}): ` +
      'the log was changed outside warden; run `warden audit verify`; nothing was appended');
  }
  return head;
}

type AppendListener = (head: AuditPosition) => void;
const listeners = new WeakMap<Store, Set<AppendListener>>();

/**
 * Told the new head after every append to `store`'s log. Called inside the appending transaction,
 * which may still roll back: a listener that needs committed state reads it later (anchors.ts).
 */
export function onAppended(store: Store, listener: AppendListener): () => void {
  const set = listeners.get(store) ?? new Set<AppendListener>();
  set.add(listener);
  listeners.set(store, set);
  return () => set.delete(listener);
}

/** Why the log cannot be appended to now (its head and its last record disagree), or undefined. */
export function auditTipProblem(store: Store): string | undefined {
  try {
    chainTip(store);
    return undefined;
  } catch (error) {
    if (error instanceof AuditIntegrityError) return error.message;
    throw error;
  }
}

/** Appends prepared entries in one write transaction (or savepoint, inside a caller's transaction). */
export function appendPrepared(store: Store, prepared: readonly PreparedEntry[]): AuditRecord[] {
  if (prepared.length === 0) return [];
  return store.transaction(() => {
    let tip = chainTip(store);
    const records: AuditRecord[] = [];
    for (const entry of prepared) {
      const fields = { seq: tip.seq + 1, ts: new Date().toISOString(), kind: entry.kind, sandbox: entry.sandbox, actor: entry.actor, prevHash: tip.hash };
      const hash = recordHash(fields, entry.payloadText);
      store.auditRows.insert({ ...fields, payload: entry.payloadText, hash });
      records.push({ ...fields, payload: entry.payload, hash });
      tip = { seq: fields.seq, hash };
    }
    store.auditRows.setHead(tip);
    for (const listener of listeners.get(store) ?? []) listener(tip);
    return records;
  });
}

/**
 * Appends a batch atomically: all entries get consecutive seqs, or (on any error) none is
 * written. Durable when it returns (the store commits with synchronous=FULL), unless called
 * inside a caller's Store.transaction(), in which case it commits with that transaction.
 */
export function appendMany(store: Store, entries: readonly AuditEntry[]): AuditRecord[] {
  return appendPrepared(store, entries.map(prepareEntry));
}

/** Appends one record; see appendMany. One fsync per call: use an AuditWriter for high rates. */
export function appendAudit(store: Store, entry: AuditEntry): AuditRecord {
  return appendPrepared(store, [prepareEntry(entry)])[0]!;
}
