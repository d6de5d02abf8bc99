// WebSocket on inspected endpoints: the upgrade is checked header by header, and after the 101 only
// well-formed WebSocket frames pass, each way (RFC 6455 section 5). Anything else ends the
// connection: after an upgrade the proxy no longer sees requests, so a client that switched
// protocols and then wrote raw HTTP (`POST /admin/delete`) would otherwise reach the server
// unchecked.

import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { headerValues } from './http-util.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest frame payload relayed; a bigger one is refused rather than buffered. */
export const MAX_FRAME_PAYLOAD = 16 * 1024 * 1024;

/** Why an upgrade request may not be relayed, or undefined when it is one clean WebSocket handshake. */
export function upgradeRequestProblem(raw: readonly string[]): string | undefined {
  const upgrades = headerValues(raw, 'upgrade');
  if (upgrades.length !== 1) return `expected one Upgrade header, got ${upgrades.length}`;
  const tokens = upgrades[0]!.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (tokens.length !== 1 || tokens[0] !== 'websocket') return `Upgrade: ${upgrades[0]!.slice(0, 80)} is not exactly "websocket"`;
  const connection = headerValues(raw, 'connection').flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase());
  if (!connection.includes('upgrade')) return 'the Connection header does not name "upgrade"';
  const keys = headerValues(raw, 'sec-websocket-key');
  if (keys.length !== 1 || Buffer.from(keys[0]!, 'base64').length !== 16) return 'expected one Sec-WebSocket-Key of 16 base64-encoded bytes';
  const versions = headerValues(raw, 'sec-websocket-version');
  if (versions.length !== 1 || versions[0]!.trim() !== '13') return 'expected Sec-WebSocket-Version: 13';
  return undefined;
}

/** Why a 101 answer is not the WebSocket handshake the client asked for, or undefined. */
export function upgradeResponseProblem(raw: readonly string[], key: string): string | undefined {
  const upgrades = headerValues(raw, 'upgrade');
  if (upgrades.length !== 1 || upgrades[0]!.trim().toLowerCase() !== 'websocket') return 'the server switched to something other than websocket';
  const accept = headerValues(raw, 'sec-websocket-accept');
  const expected = createHash('sha1').update(key + GUID).digest('base64');
  if (accept.length !== 1 || accept[0]!.trim() !== expected) return 'the server\'s Sec-WebSocket-Accept does not answer the key';
  if (headerValues(raw, 'sec-websocket-extensions').length > 0) return 'the server negotiated an extension the proxy did not offer';
  return undefined;
}

export class WebSocketProtocolError extends Error {}

/**
 * Passes bytes through unchanged while checking that they are a sequence of WebSocket frames from
 * `side` ('client' frames are masked, 'server' frames are not). No extension is negotiated (the
 * proxy drops Sec-WebSocket-Extensions), so the reserved bits must be zero. It errors with a
 * WebSocketProtocolError on the first violation; bytes of the offending frame are not passed on.
 */
export class WebSocketFrameGuard extends Transform {
  private pending = Buffer.alloc(0);
  /** Payload bytes of the current frame still to pass through. */
  private remaining = 0;
  private fragmented = false;

  constructor(private readonly side: 'client' | 'server') {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, data.length);
        this.push(data.subarray(0, take));
        this.remaining -= take;
        data = data.subarray(take);
        continue;
      }
      const header = this.header(data);
      if (header === undefined) {
        this.pending = Buffer.from(data);
        return;
      }
      this.push(data.subarray(0, header.length));
      this.remaining = header.payload;
      data = data.subarray(header.length);
    }
  }

  /** The next frame header's length and payload length, undefined until enough bytes are in. */
  private header(data: Buffer): { length: number; payload: number } | undefined {
    if (data.length < 2) return undefined;
    const first = data[0]!;
    const second = data[1]!;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    const masked = (second & 0x80) !== 0;
    if ((first & 0x70) !== 0) throw new WebSocketProtocolError('reserved bits set (no extension was negotiated): not a WebSocket frame');
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) throw new WebSocketProtocolError(`unknown opcode ${opcode}: not a WebSocket frame`);
    if (masked !== (this.side === 'client')) throw new WebSocketProtocolError(`${this.side} frames must ${this.side === 'client' ? '' : 'not '}be masked`);
    const control = opcode >= 8;
    if (control && !fin) throw new WebSocketProtocolError('a fragmented control frame');
    if (opcode === 0 && !this.fragmented) throw new WebSocketProtocolError('a continuation frame without a message');
    if ((opcode === 1 || opcode === 2) && this.fragmented) throw new WebSocketProtocolError('a new message inside a fragmented one');
    let length = 2;
    let payload = second & 0x7f;
    if (payload === 126) {
      if (data.length < 4) return undefined;
      payload = data.readUInt16BE(2);
      length = 4;
    } else if (payload === 127) {
      if (data.length < 10) return undefined;
      const big = data.readBigUInt64BE(2);
      if (big > BigInt(MAX_FRAME_PAYLOAD)) throw new WebSocketProtocolError(`a frame of ${big} bytes is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
      payload = Number(big);
      length = 10;
    }
    if (control && payload > 125) throw new WebSocketProtocolError('a control frame longer than 125 bytes');
    if (payload > MAX_FRAME_PAYLOAD) throw new WebSocketProtocolError(`a frame of ${payload} bytes is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
    if (masked) length += 4;
    if (data.length < length) return undefined;
    if (!control) this.fragmented = !fin;
    return { length, payload };
  }
}
