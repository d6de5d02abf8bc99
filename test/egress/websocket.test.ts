import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MAX_FRAME_PAYLOAD, upgradeRequestProblem, upgradeResponseProblem, WebSocketFrameGuard, WebSocketProtocolError } from '../../src/egress/websocket.js';

function frame(opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean; rsv?: number } = {}): Buffer {
  const { fin = true, masked = true, rsv = 0 } = options;
  const first = (fin ? 0x80 : 0) | rsv | opcode;
  const mask = masked ? Buffer.from([9, 8, 7, 6]) : Buffer.alloc(0);
  let length: Buffer;
  if (payload.length < 126) length = Buffer.from([(masked ? 0x80 : 0) | payload.length]);
  else if (payload.length < 65536) length = Buffer.from([(masked ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 0xff]);
  else {
    length = Buffer.alloc(9);
    length[0] = (masked ? 0x80 : 0) | 127;
    length.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  return Buffer.concat([Buffer.from([first]), length, mask, payload]);
}

/** Everything the guard passes for `input`, cut into chunks at every `cut`, or the error it raises. */
function through(side: 'client' | 'server', input: Buffer, cut = input.length): Promise<{ out: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const guard = new WebSocketFrameGuard(side);
    const out: Buffer[] = [];
    guard.on('data', (d: Buffer) => out.push(d));
    guard.on('error', (error) => resolve({ out: Buffer.concat(out), error }));
    guard.on('end', () => resolve({ out: Buffer.concat(out) }));
    for (let at = 0; at < input.length; at += cut) guard.write(input.subarray(at, at + cut));
    guard.end();
  });
}

describe('WebSocketFrameGuard', () => {
  test('valid frames pass unchanged, however they are split', async () => {
    const stream = Buffer.concat([
      frame(1, Buffer.from('hello')), frame(2, Buffer.alloc(300, 7)), frame(9, Buffer.from('ping')),
      frame(1, Buffer.from('frag'), { fin: false }), frame(0, Buffer.from('mented')), frame(8, Buffer.from([3, 232])),
      frame(2, Buffer.alloc(70_000, 1)),
    ]);
    for (const cut of [1, 2, 3, 7, 100, stream.length]) {
      const { out, error } = await through('client', stream, cut);
      assert.equal(error, undefined, `cut ${cut}`);
      assert.deepEqual(out, stream, `cut ${cut}`);
    }
    const server = Buffer.concat([frame(1, Buffer.from('hi'), { masked: false }), frame(10, Buffer.alloc(0), { masked: false })]);
    assert.deepEqual((await through('server', server)).out, server);
  });

  test('anything that is not a frame ends the stream, and nothing of it passes', async () => {
    const good = frame(1, Buffer.from('ok'));
    const cases: Array<[string, Buffer, RegExp]> = [
      ['raw HTTP after the upgrade', Buffer.from('POST /admin/delete HTTP/1.1\r\n\r\n'), /reserved bits|unknown opcode/],
      ['reserved bits (an extension nobody negotiated)', frame(1, Buffer.from('x'), { rsv: 0x40 }), /reserved bits/],
      ['unknown opcode', frame(3, Buffer.from('x')), /unknown opcode 3/],
      ['an unmasked client frame', frame(1, Buffer.from('x'), { masked: false }), /must be masked/],
      ['a fragmented control frame', frame(9, Buffer.from('x'), { fin: false }), /fragmented control/],
      ['a long control frame', frame(8, Buffer.alloc(126)), /control frame longer than 125/],
      ['a continuation without a message', frame(0, Buffer.from('x')), /continuation frame without/],
      ['a new message inside a fragmented one', Buffer.concat([frame(1, Buffer.from('a'), { fin: false }), frame(1, Buffer.from('b'))]), /new message inside/],
    ];
    for (const [what, bad, message] of cases) {
      const { out, error } = await through('client', Buffer.concat([good, bad]));
      assert.ok(error instanceof WebSocketProtocolError, what);
      assert.match(error.message, message, what);
      assert.deepEqual(out.subarray(0, good.length), good, `${what}: the good frame before it passed`);
      assert.ok(out.length <= good.length + 14, `${what}: at most a header of the bad frame passed`);
    }
    const serverMasked = await through('server', frame(1, Buffer.from('x')));
    assert.match(serverMasked.error?.message ?? '', /must not be masked/);
  });

  test('a frame longer than the limit is refused on its header, before its payload is awaited', async () => {
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(MAX_FRAME_PAYLOAD) + 1n, 2);
    const { error, out } = await through('client', header);
    assert.match(error?.message ?? '', /over the .* limit/);
    assert.equal(out.length, 0);
  });
});

describe('WebSocket handshakes', () => {
  const request = (extra: string[] = []) => ['Host', 'x', 'Upgrade', 'websocket', 'Connection', 'keep-alive, Upgrade', 'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version', '13', ...extra];

  test('one clean WebSocket upgrade passes; smuggling shapes do not', () => {
    assert.equal(upgradeRequestProblem(request()), undefined);
    assert.match(upgradeRequestProblem([...request(), 'Upgrade', 'h2c']) ?? '', /one Upgrade header, got 2/);
    assert.match(upgradeRequestProblem(request().map((v) => (v === 'websocket' ? 'h2c, websocket' : v))) ?? '', /not exactly "websocket"/);
    assert.match(upgradeRequestProblem(request().map((v) => (v === 'keep-alive, Upgrade' ? 'keep-alive' : v))) ?? '', /Connection/);
    assert.match(upgradeRequestProblem(request().map((v) => (v === '13' ? '8' : v))) ?? '', /Version: 13/);
    assert.match(upgradeRequestProblem(request().map((v) => (v === 'dGhlIHNhbXBsZSBub25jZQ==' ? 'short' : v))) ?? '', /Sec-WebSocket-Key/);
  });

  test('the 101 must answer the key, switch to websocket, and add no extension', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.equal(accept, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'the RFC 6455 example');
    assert.equal(upgradeResponseProblem(['Upgrade', 'websocket', 'Sec-WebSocket-Accept', accept], key), undefined);
    assert.match(upgradeResponseProblem(['Upgrade', 'h2c', 'Sec-WebSocket-Accept', accept], key) ?? '', /other than websocket/);
    assert.match(upgradeResponseProblem(['Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'wrong'], key) ?? '', /does not answer the key/);
    assert.match(upgradeResponseProblem(['Upgrade', 'websocket', 'Sec-WebSocket-Accept', accept, 'Sec-WebSocket-Extensions', 'permessage-deflate'], key) ?? '', /extension/);
  });
});
