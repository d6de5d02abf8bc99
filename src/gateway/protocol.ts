// The gateway's API on its Unix socket. One connection per call: the client sends one JSON line
// (a GatewayRequest); the gateway answers with one JSON line (a GatewayReply). For `exec` the
// connection then carries frames (src/sandbox frames: stdin, resize, signal one way; stdout,
// stderr, exit the other) until the command exits.

export interface GatewayRequest {
  op: string;
  args?: Record<string, unknown>;
}

export type GatewayReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

/** Longest request line the gateway reads: a policy travels in it. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** An error with a code a client can act on; its message says what to do next. */
export class GatewayError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'GatewayError';
  }
}

/**
 * Splits the first line off a byte stream: resolves with the parsed JSON and whatever bytes
 * followed it (the start of a frame stream).
 */
export function readJsonLine(stream: NodeJS.ReadableStream, limit = MAX_REQUEST_BYTES): Promise<{ value: unknown; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(10);
      if (newline < 0) {
        if (buffered.length > limit) finish(new GatewayError('bad_request', `request longer than ${limit} bytes`));
        return;
      }
      try {
        const value: unknown = JSON.parse(buffered.subarray(0, newline).toString('utf8'));
        finish(undefined, { value, rest: buffered.subarray(newline + 1) });
      } catch {
        finish(new GatewayError('bad_request', 'the request is not one line of JSON'));
      }
    };
    const onEnd = () => finish(new GatewayError('closed', 'the connection closed before a complete message'));
    const finish = (error?: Error, result?: { value: unknown; rest: Buffer }) => {
      // Paused so that bytes after the line wait for the next reader instead of being dropped.
      stream.pause();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', finish);
      if (error) reject(error);
      else resolve(result!);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', finish);
  });
}
