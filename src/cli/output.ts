import { writeSync } from 'node:fs';

export type OutputMode = 'human' | 'json';

/** An error warden reports to its user: what happened, and what to do next. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  static from(error: unknown): CliError {
    if (error instanceof CliError) return error;
    if (isClosedPipe(error)) return new OutputClosed();
    const message = error instanceof Error ? error.message : String(error);
    return new CliError('internal_error', `${message}\nThis is a bug in warden; please report it with the command you ran.`, 125);
  }
}

/**
 * Exit status when the reader of warden's output went away (`warden sandbox list | head -1`):
 * the output was wanted only up to there, so this is not a failure (and `set -o pipefail` scripts
 * keep working). Nothing more is printed.
 */
export const CLOSED_PIPE_EXIT = 0;

/** stdout's reader is gone: the command ends quietly, as Unix tools do. */
export class OutputClosed extends CliError {
  constructor() {
    super('output_closed', 'the reader of the output went away', CLOSED_PIPE_EXIT);
  }
}

export function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * The one shape of every `--json` answer (docs/commands.md, "JSON output"): `{"ok": true,
 * "result": ...}`, or `{"ok": false, "error": {"code", "message", ...}}` with the command's
 * `result` too when a failure has one (the failed checks of `doctor`). `ok` is true exactly when
 * warden exits 0. Commands that stream (logs, approvals watch) print one object per line instead.
 */
export function printJsonResult(result: unknown, failure?: { code: string; message: string }): void {
  printLine(1, JSON.stringify(failure === undefined ? { ok: true, result } : { ok: false, error: failure, result }));
}

/**
 * Prints an error and returns its exit code. Written with writeSync so that nothing here
 * turns the shared stdout/stderr descriptors non-blocking under a running sandbox.
 */
export function reportError(error: CliError, mode: OutputMode): number {
  if (error instanceof OutputClosed) return error.exitCode;
  if (mode === 'json') {
    printLine(1, JSON.stringify({ ok: false, error: { code: error.code, message: error.message, ...error.details } }));
  } else {
    printLine(2, `warden: ${error.message}`);
  }
  return error.exitCode;
}

/**
 * Writes one line. A closed stdout ends the command quietly (OutputClosed, exit 0); a closed
 * stderr is ignored: there is nobody left to tell.
 */
export function printLine(fd: 1 | 2, text: string): void {
  try {
    writeSync(fd, text.endsWith('\n') ? text : text + '\n');
  } catch (error) {
    if (!isClosedPipe(error)) throw error;
    if (fd === 1) throw new OutputClosed();
  }
}
