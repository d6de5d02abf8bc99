// Text that came from inside a sandbox (hosts, paths, binary names, a program's output) printed
// on a person's terminal. Printed raw it could carry terminal escape sequences (rewrite or hide
// lines, retitle the window) or bidirectional overrides (make DENY read as something else).
// C0 and C1 controls, DEL, line/paragraph separators and bidi controls are shown escaped.
import type { DecisionRecord } from './records.js';

const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export const hex = (char: string, width: number) => char.codePointAt(0)!.toString(16).padStart(width, '0');

/** `text` with every character that could control a terminal written as \xNN or \uNNNN. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => c.codePointAt(0)! <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);
}

/** Codes of refusals that are failures to reach the destination, not decisions against it. */
const NOT_A_DENIAL = new Set(['cannot_resolve', 'upstream_error']);

/**
 * The one line warden prints on a client's stderr for a decision (`warden run`, `exec`, `connect`):
 * a denial says who was denied what and why; a name that does not resolve or an unreachable
 * upstream is not called a denial. Undefined for what needs no line (allowed actions).
 * Terminal-safe: built from the redacted record, with the sandbox's text escaped.
 */
export function decisionNotice(record: DecisionRecord): string | undefined {
  if (record.verdict !== 'deny') return undefined;
  const destination = record.destination;
  const where = destination ? `${destination.host}:${destination.port}` : record.target ?? record.action;
  const what = record.method ? `${record.method} ${where}${record.path ?? ''}` : where;
  const who = `${record.binary.path || 'unknown binary'} (pid ${record.binary.pid})`;
  if (NOT_A_DENIAL.has(record.code)) return terminalSafe(`warden: ${who} -> ${what} failed: ${record.reason}`);
  return terminalSafe(`warden: denied ${who} -> ${what}: ${record.reason}`);
}
