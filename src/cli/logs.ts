// `warden logs NAME [-f]`: one sandbox's audit records (network verdicts, lifecycle, policy
// revisions, commands), read straight from the store, then optionally followed as they arrive.
//
// Following polls the audit table by seq every ~200 ms. Why polling is fine here:
// - the writer is another process (the gateway) and SQLite has no cross-process change
//   notification; watching the -wal file would still need a query, and misses checkpoints;
// - the poll is `seq > last` on the primary key: an index seek that returns nothing when idle,
//   and it holds no transaction between polls, so it never delays the gateway's checkpoints;
// - 200 ms is below what a person watching a terminal notices, and `logs -f` keeps working
//   across gateway restarts because it does not depend on the gateway at all;
// - seqs are assigned inside the writer's transaction, so records commit in seq order and a
//   reader never sees seq N+1 before seq N: "everything after the last seq seen" loses nothing.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isatty } from 'node:tty';
import type { AuditRow, Store } from '../store/index.js';
import { isBrokenPipe, openExistingStore, terminalSafe, terminalSafeJson, writeAllSync } from './audit-io.js';
import { CliError } from './output.js';

export interface LogsOptions {
  follow: boolean;
  /** Only records with seq > since. */
  since: number;
  /** Only records written at or after this time (`--since 5m`, `--since 2026-01-01T10:00Z`). */
  sinceTime?: Date;
  /** Only the last N of the records that would be shown (before following). */
  tail?: number;
  json: boolean;
  /** Follow poll interval; default 200 ms. */
  pollMs?: number;
}

const PAGE = 1000;
const DEFAULT_POLL_MS = 200;
const MAX_OTHER_PAYLOAD = 300;

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {};
const asString = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined;
const asNumber = (value: unknown): number | undefined => typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function noSuchSandbox(name: string): CliError {
  return new CliError('no_such_sandbox', `no sandbox named ${terminalSafe(name)} (warden sandbox list shows them)`, 1);
}

/** A payload is canonical JSON when warden wrote it; a tampered one may not be. */
function parsePayload(row: AuditRow): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(row.payload) as unknown };
  } catch {
    return { ok: false };
  }
}

/** One word, or a JSON string when it has spaces or quotes, so fields stay unambiguous. */
function word(value: string): string {
  return /^[^\s"'\\]+$/.test(value) ? value : JSON.stringify(value);
}

function egressDetails(p: Json): string {
  const binary = asObject(p.binary);
  const destination = asObject(p.destination);
  const verdict = p.verdict === 'allow' ? 'ALLOW' : p.verdict === 'deny' ? 'DENY' : `${String(p.verdict ?? '?').toUpperCase()}?`;
  const pid = asNumber(binary.pid);
  const who = `${asString(binary.path) || 'unknown-binary'}${pid === undefined ? '' : ` (pid ${pid})`}`;
  const where = `${asString(destination.host) ?? '?'}:${asNumber(destination.port) ?? '?'}`;
  const method = asString(p.method);
  const request = method === undefined ? '' : ` ${method} ${asString(p.path) ?? ''}`.trimEnd();
  const policy = asString(p.policy);
  const rule = asString(p.rule);
  const reason = asString(p.reason) ?? '';
  const why = verdict === 'ALLOW' && policy !== undefined
    ? ` by ${policy}${rule === undefined ? '' : ` (${rule})`}`
    : `: ${reason}${typeof p.code === 'string' ? ` [${p.code}]` : ''}`;
  return `${verdict} ${who} -> ${where}${request}${why}`;
}

function argvText(argv: unknown): string {
  return Array.isArray(argv) ? argv.map((a) => word(String(a))).join(' ') : '?';
}

function execDetails(kind: string, p: Json): string {
  const id = p.id === undefined ? '?' : String(p.id);
  if (kind === 'exec.started') {
    const pid = asNumber(p.pid);
    return `exec ${id} started${pid === undefined ? '' : ` (pid ${pid})`}: ${argvText(p.argv)}`;
  }
  const code = asNumber(p.code);
  const signal = asString(p.signal);
  const how = code !== undefined ? `with code ${code}` : signal !== undefined ? `on signal ${signal}` : '(exit status unknown)';
  return `exec ${id} exited ${how}: ${argvText(p.argv)}`;
}

function policyDetails(p: Json, actor: string | null): string {
  const rev = asNumber(p.rev);
  const author = asString(p.author) ?? actor ?? 'unknown';
  const reason = asString(p.reason);
  return `revision ${rev ?? '?'} by ${author}${reason ? `: ${reason}` : ''}`;
}

/** Scalar payload members as key=value: lifecycle payloads vary by event and by version. */
function scalarMembers(p: Json): string {
  return Object.keys(p).sort()
    .filter((key) => ['string', 'number', 'boolean'].includes(typeof p[key]))
    .map((key) => `${key}=${word(String(p[key]))}`)
    .join(' ');
}

function byActor(actor: string | null): string {
  return actor === null ? '' : `by ${actor}`;
}

function otherDetails(payload: unknown, actor: string | null): string {
  let text = JSON.stringify(payload);
  if (text === '{}') text = '';
  if (text.length > MAX_OTHER_PAYLOAD) text = `${text.slice(0, MAX_OTHER_PAYLOAD)}...`;
  return [byActor(actor), text].filter((part) => part !== '').join(' ');
}

function details(row: AuditRow, payload: unknown): string {
  const p = asObject(payload);
  if (row.kind === 'egress.verdict') return egressDetails(p);
  if (row.kind === 'exec.started' || row.kind === 'exec.exited') return execDetails(row.kind, p);
  if (row.kind === 'policy.revision') return policyDetails(p, row.actor);
  if (row.kind.startsWith('sandbox.')) return [byActor(row.actor), scalarMembers(p)].filter((part) => part !== '').join(' ');
  return otherDetails(payload, row.actor);
}

/** One human-readable line: time, seq, kind, what happened. Everything from the log is made terminal-safe. */
export function formatLogLine(row: AuditRow): string {
  const parsed = parsePayload(row);
  const text = parsed.ok
    ? details(row, parsed.value)
    : 'payload is not JSON: the log was changed outside warden; run `warden audit verify`';
  return terminalSafe(`${row.ts} #${row.seq} ${row.kind.padEnd(16)} ${text}`);
}

/** One JSON object per record, the same members as an export line (payload parsed). */
export function formatLogJson(row: AuditRow): string {
  const parsed = parsePayload(row);
  return terminalSafeJson({
    seq: row.seq, ts: row.ts, kind: row.kind, sandbox: row.sandbox, actor: row.actor,
    payload: parsed.ok ? parsed.value : row.payload, ...(parsed.ok ? {} : { payload_not_json: true }),
    prev_hash: row.prevHash, hash: row.hash,
  });
}

/**
 * Prints the sandbox's records with seq > after, page by page, and returns the highest seq read
 * (of any sandbox: the next read starts there) and how many were printed.
 */
function printNewRecords(store: Store, name: string, after: number, format: (row: AuditRow) => string,
  limits: { sinceTime?: Date; tail?: number } = {}): { last: number; printed: number; known: boolean } {
  let last = after;
  let printed = 0;
  let known = false;
  const since = limits.sinceTime?.toISOString();
  // With --tail, only the last N are kept, then printed once the end is reached.
  const kept: string[] = [];
  for (;;) {
    const page = store.auditRows.page(last, PAGE);
    const mine = page.filter((row) => row.sandbox === name);
    if (mine.length > 0) known = true;
    const lines = mine.filter((row) => since === undefined || row.ts >= since).map((row) => format(row) + '\n');
    if (limits.tail !== undefined) {
      kept.push(...lines);
      if (kept.length > limits.tail) kept.splice(0, kept.length - limits.tail);
    } else if (lines.length > 0) {
      writeAllSync(1, lines.join(''));
      printed += lines.length;
    }
    if (page.length > 0) last = page[page.length - 1]!.seq;
    if (page.length < PAGE) {
      if (kept.length > 0) writeAllSync(1, kept.join(''));
      return { last, printed: printed + kept.length, known };
    }
  }
}

/** A sandbox exists for `logs` while it is in the sandboxes table or has any record, deleted or not. */
export function sandboxKnown(store: Store, name: string): boolean {
  if (store.sandboxes.get(name) !== undefined) return true;
  for (let after = 0; ;) {
    const page = store.auditRows.page(after, PAGE);
    if (page.some((row) => row.sandbox === name)) return true;
    if (page.length < PAGE) return false;
    after = page[page.length - 1]!.seq;
  }
}

/** Aborts on SIGINT or SIGTERM (instead of Node's default of dying); `release` removes the handlers. */
function stopSignal(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

async function follow(store: Store, name: string, after: number, format: (row: AuditRow) => string, pollMs: number, stop: AbortSignal): Promise<void> {
  let last = after;
  while (!stop.aborted) {
    await sleep(pollMs, undefined, { signal: stop }).catch(() => undefined);
    if (stop.aborted) break;
    last = printNewRecords(store, name, last, format).last;
  }
}

/** `warden logs NAME`: 0 when shown (and, with follow, when stopped by SIGINT/SIGTERM). */
export async function logsCommand(name: string, opts: LogsOptions): Promise<number> {
  const store = openExistingStore();
  if (store === undefined) throw noSuchSandbox(name);
  const format = opts.json ? formatLogJson : formatLogLine;
  // Installed before the history is printed, so an early Ctrl-C also ends in a clean exit 0.
  const stop = opts.follow ? stopSignal() : undefined;
  try {
    const shown = printNewRecords(store, name, opts.since, format, { ...(opts.sinceTime ? { sinceTime: opts.sinceTime } : {}), ...(opts.tail !== undefined ? { tail: opts.tail } : {}) });
    if (!shown.known && !sandboxKnown(store, name)) throw noSuchSandbox(name);
    if (stop !== undefined) await follow(store, name, shown.last, format, opts.pollMs ?? DEFAULT_POLL_MS, stop.signal);
    return 0;
  } catch (error) {
    if (isBrokenPipe(error)) return 0;
    throw error;
  } finally {
    stop?.release();
    store.close();
  }
}

/**
 * `warden logs NAME --main`: the output of the sandbox's main command (stdout and stderr, as
 * written to $WARDEN_HOME/sandboxes/NAME/main.log), then, with follow, what it appends.
 */
export async function mainLogCommand(name: string, opts: { follow: boolean; pollMs?: number }): Promise<number> {
  const { sandboxDirectory } = await import('../gateway/index.js');
  const { wardenHome, isValidSandboxName } = await import('../store/index.js');
  if (!isValidSandboxName(name)) throw noSuchSandbox(name);
  const file = sandboxDirectory(wardenHome(), name).mainLog;
  const toTerminal = isatty(1);
  let offset = 0;
  const copyNew = (): void => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0; // truncated (the log is bounded): start over
    if (size === offset) return;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      // On a terminal, control characters other than newline and tab are shown escaped: the
      // output came from inside the sandbox and must not drive the user's terminal.
      const chunk = buffer.subarray(0, read);
      writeAllSync(1, toTerminal ? Buffer.from(chunk.toString('latin1').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`), 'latin1') : chunk);
    } finally {
      closeSync(fd);
    }
  };
  if (!existsSync(file)) {
    const store = openExistingStore();
    const known = store !== undefined && sandboxKnown(store, name);
    const record = store?.sandboxes.get(name);
    store?.close();
    if (!known) throw noSuchSandbox(name);
    if (!opts.follow) {
      throw new CliError('no_main_output', `sandbox ${terminalSafe(name)} has no main command output${record && record.command.length === 0 ? ' (it was created without a main command)' : ''}`, 1);
    }
  }
  const stop = opts.follow ? stopSignal() : undefined;
  try {
    do {
      copyNew();
      if (stop === undefined) break;
      await sleep(opts.pollMs ?? DEFAULT_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    } while (!stop.signal.aborted);
    return 0;
  } catch (error) {
    if (isBrokenPipe(error)) return 0;
    throw error;
  } finally {
    stop?.release();
  }
}
