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
    const message = error instanceof Error ? error.message : String(error);
    return new CliError('internal_error', `${message}\nThis is a bug in warden; please report it with the command you ran.`, 125);
  }
}

/**
 * Prints an error and returns its exit code. Written with writeSync so that nothing here
 * turns the shared stdout/stderr descriptors non-blocking under a running sandbox.
 */
export function reportError(error: CliError, mode: OutputMode): number {
  if (mode === 'json') {
    printLine(1, JSON.stringify({ ok: false, error: { code: error.code, message: error.message, ...error.details } }));
  } else {
    printLine(2, `warden: ${error.message}`);
  }
  return error.exitCode;
}

export function printLine(fd: 1 | 2, text: string): void {
  writeSync(fd, text.endsWith('\n') ? text : text + '\n');
}
