import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeFrame, FRAME, FRAME_HEADER_BYTES, FrameDecoder, FrameError, frameJson, MAX_FRAME_PAYLOAD, type FrameType } from '../../src/sandbox/frames.js';

describe('frame codec', () => {
  test('encodes the header as type, big-endian channel and length', () => {
    const frame = encodeFrame(FRAME.stdout, 0x01020304, 'hey');
    assert.deepEqual([...frame.subarray(0, FRAME_HEADER_BYTES)], [18, 1, 2, 3, 4, 0, 0, 0, 3]);
    assert.equal(frame.subarray(FRAME_HEADER_BYTES).toString(), 'hey');
  });

  test('round trip of bytes, strings and JSON objects', () => {
    const bytes = Buffer.from([0, 255, 10, 13, 0]);
    const stream = Buffer.concat([
      encodeFrame(FRAME.stdin, 7, bytes),
      encodeFrame(FRAME.start, 8, { argv: ['ls', '-l'], env: { PATH: '/bin' }, cwd: '/', tty: null }),
      encodeFrame(FRAME.stdinEnd, 0xffffffff),
      encodeFrame(FRAME.stderr, 9, 'é'),
    ]);
    const frames = new FrameDecoder().push(stream);
    assert.equal(frames.length, 4);
    assert.deepEqual(frames.map((f) => [f.type, f.channel]), [[FRAME.stdin, 7], [FRAME.start, 8], [FRAME.stdinEnd, 0xffffffff], [FRAME.stderr, 9]]);
    assert.deepEqual(frames[0]!.payload, bytes);
    assert.deepEqual(frameJson(frames[1]!), { argv: ['ls', '-l'], env: { PATH: '/bin' }, cwd: '/', tty: null });
    assert.equal(frames[2]!.payload.length, 0);
    assert.equal(frames[3]!.payload.toString('utf8'), 'é');
  });

  test('frames split across chunks at every byte come out whole and in order', () => {
    const stream = Buffer.concat([encodeFrame(FRAME.stdout, 1, 'first'), encodeFrame(FRAME.exit, 1, { code: 3 })]);
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      assert.equal(frames.length, 2, `cut at ${cut}`);
      assert.equal(frames[0]!.payload.toString(), 'first');
      assert.deepEqual(frameJson(frames[1]!), { code: 3 });
      assert.equal(decoder.pendingBytes, 0);
    }
    const decoder = new FrameDecoder();
    const oneByOne = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.equal(oneByOne.length, 2);
  });

  test('a payload of exactly the limit passes; one byte more is refused on both sides', () => {
    const atLimit = encodeFrame(FRAME.stdin, 1, Buffer.alloc(MAX_FRAME_PAYLOAD, 1));
    assert.equal(new FrameDecoder().push(atLimit)[0]!.payload.length, MAX_FRAME_PAYLOAD);
    assert.throws(() => encodeFrame(FRAME.stdin, 1, Buffer.alloc(MAX_FRAME_PAYLOAD + 1)), FrameError);
    // Only the header of the oversized frame is sent: refused before its payload is awaited.
    const header = Buffer.from([FRAME.stdin, 0, 0, 0, 1, 0, 0x10, 0, 1]);
    assert.throws(() => new FrameDecoder().push(header), FrameError);
  });

  test('unknown types are refused, and the decoder stays failed afterwards', () => {
    const decoder = new FrameDecoder();
    assert.throws(() => decoder.push(Buffer.from([99, 0, 0, 0, 1, 0, 0, 0, 0])), /unknown frame type 99/);
    assert.throws(() => decoder.push(encodeFrame(FRAME.stdin, 1, 'x')), FrameError);
    assert.throws(() => encodeFrame(6 as FrameType, 1, ''), FrameError);
    assert.deepEqual(new FrameDecoder().push(Buffer.from([FRAME.signal, 0, 0, 0, 1, 0, 0, 0, 0])).length, 1);
  });

  test('channels must be u32', () => {
    assert.throws(() => encodeFrame(FRAME.stdin, -1, ''), FrameError);
    assert.throws(() => encodeFrame(FRAME.stdin, 2 ** 32, ''), FrameError);
    assert.throws(() => encodeFrame(FRAME.stdin, 1.5, ''), FrameError);
  });

  test('frameJson refuses a payload that is not JSON', () => {
    const [frame] = new FrameDecoder().push(encodeFrame(FRAME.resize, 1, '{"rows": 3,'));
    assert.throws(() => frameJson(frame!), FrameError);
  });
});
