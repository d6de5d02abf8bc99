import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeExit, decodeResize, decodeSignal, decodeStart, decodeStartFailed, decodeU32, encodeFrame, encodeResize, encodeSignal, encodeStart,
  encodeStartFailed, encodeU32, EXEC_SIGNALS, FRAME, FRAME_HEADER_BYTES, FrameDecoder, FrameError, MAX_FRAME_PAYLOAD,
  type Frame, type FrameType, type StartPayload,
} from '../../src/sandbox/frames.js';

const text = (s: string) => Buffer.from(s, 'utf8');
const frame = (type: FrameType, payload: Buffer): Frame => ({ type, channel: 1, payload });

describe('frame codec', () => {
  test('encodes the header as type, big-endian channel and length', () => {
    const encoded = encodeFrame(FRAME.stdout, 0x01020304, text('hey'));
    assert.deepEqual([...encoded.subarray(0, FRAME_HEADER_BYTES)], [18, 1, 2, 3, 4, 0, 0, 0, 3]);
    assert.equal(encoded.subarray(FRAME_HEADER_BYTES).toString(), 'hey');
  });

  test('frames split across chunks at every byte come out whole and in order', () => {
    const stream = Buffer.concat([encodeFrame(FRAME.stdout, 1, text('first')), encodeFrame(FRAME.exit, 1, encodeU32(3))]);
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      assert.equal(frames.length, 2, `cut at ${cut}`);
      assert.equal(frames[0]!.payload.toString(), 'first');
      assert.equal(decodeExit(frames[1]!), 3);
      assert.equal(decoder.pendingBytes, 0);
    }
    const decoder = new FrameDecoder();
    assert.equal([...stream].flatMap((byte) => decoder.push(Buffer.from([byte]))).length, 2);
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
    assert.throws(() => decoder.push(encodeFrame(FRAME.stdin, 1, text('x'))), FrameError);
    assert.throws(() => encodeFrame(7 as FrameType, 1), FrameError);
  });

  test('channels must be u32', () => {
    assert.throws(() => encodeFrame(FRAME.stdin, -1), FrameError);
    assert.throws(() => encodeFrame(FRAME.stdin, 2 ** 32), FrameError);
    assert.throws(() => encodeFrame(FRAME.stdin, 1.5), FrameError);
  });
});

describe('start payload', () => {
  const start: StartPayload = { argv: ['ls', '-l', 'é ü', ''], env: { PATH: '/bin', EMPTY: '', EQ: 'a=b' }, cwd: '/sandbox', tty: { rows: 40, cols: 120 } };

  test('round trip, with and without a terminal', () => {
    assert.deepEqual(decodeStart(frame(FRAME.start, encodeStart(start))), start);
    const plain = { ...start, tty: null };
    assert.deepEqual(decodeStart(frame(FRAME.start, encodeStart(plain))), plain);
  });

  test('the layout is exact: flags, dimensions, counts, NUL-terminated strings', () => {
    const payload = encodeStart({ argv: ['a'], env: { K: 'v' }, cwd: '/', tty: null });
    assert.deepEqual([...payload], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, ...text('/\0a\0K=v\0')]);
  });

  test('malformed payloads are refused', () => {
    const good = encodeStart({ argv: ['a'], env: {}, cwd: '/', tty: null });
    const cases: Array<[string, Buffer]> = [
      ['too short', good.subarray(0, 12)],
      ['unknown flag', Buffer.concat([Buffer.from([2]), good.subarray(1)])],
      ['missing final NUL', good.subarray(0, good.length - 1)],
      ['more strings than counted', Buffer.concat([good, text('extra\0')])],
      ['argc too large', Buffer.concat([good.subarray(0, 5), Buffer.from([0, 0, 0, 9]), good.subarray(9)])],
      ['argc of four billion', Buffer.concat([good.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0xff]), good.subarray(9)])],
      ['relative cwd', encodeStartUnchecked('rel', ['a'], [])],
      ['empty argv[0]', encodeStartUnchecked('/', [''], [])],
      ['env entry without =', encodeStartUnchecked('/', ['a'], ['NOEQ'])],
      ['bad env name', encodeStartUnchecked('/', ['a'], ['1X=y'])],
      ['tty flag with zero rows', Buffer.concat([Buffer.from([1, 0, 0, 0, 80]), good.subarray(5)])],
    ];
    for (const [what, payload] of cases) assert.throws(() => decodeStart(frame(FRAME.start, payload)), FrameError, what);
  });

  test('the encoder refuses what the decoder would', () => {
    assert.throws(() => encodeStart({ argv: [], env: {}, cwd: '/', tty: null }), FrameError);
    assert.throws(() => encodeStart({ argv: ['a\0b'], env: {}, cwd: '/', tty: null }), FrameError);
    assert.throws(() => encodeStart({ argv: ['a'], env: { 'A=B': 'c' }, cwd: '/', tty: null }), FrameError);
    assert.throws(() => encodeStart({ argv: ['a'], env: {}, cwd: '/', tty: { rows: 0, cols: 80 } }), FrameError);
  });
});

/** A start payload built by hand, bypassing the encoder's checks. */
function encodeStartUnchecked(cwd: string, argv: string[], env: string[]): Buffer {
  const head = Buffer.alloc(13);
  head.writeUInt32BE(argv.length, 5);
  head.writeUInt32BE(env.length, 9);
  return Buffer.concat([head, ...[cwd, ...argv, ...env].map((s) => text(s + '\0'))]);
}

describe('small payloads', () => {
  test('resize: two big-endian u16, neither zero', () => {
    assert.deepEqual([...encodeResize({ rows: 24, cols: 300 })], [0, 24, 1, 44]);
    assert.deepEqual(decodeResize(frame(FRAME.resize, encodeResize({ rows: 65535, cols: 1 }))), { rows: 65535, cols: 1 });
    assert.throws(() => decodeResize(frame(FRAME.resize, Buffer.from([0, 0, 0, 5]))), FrameError);
    assert.throws(() => decodeResize(frame(FRAME.resize, Buffer.from([0, 1, 0]))), FrameError);
    assert.throws(() => encodeResize({ rows: 70000, cols: 1 }), FrameError);
  });

  test('signal: one byte, only the listed signals', () => {
    for (const [name, number] of Object.entries(EXEC_SIGNALS)) {
      assert.deepEqual([...encodeSignal(name as keyof typeof EXEC_SIGNALS)], [number]);
      assert.equal(decodeSignal(frame(FRAME.signal, Buffer.from([number]))), name);
    }
    for (const bad of [Buffer.from([0]), Buffer.from([19]), Buffer.from([99]), Buffer.from('nonjson'), Buffer.alloc(0)]) {
      assert.throws(() => decodeSignal(frame(FRAME.signal, bad)), FrameError);
    }
  });

  test('u32 values and exit codes', () => {
    assert.equal(decodeU32(frame(FRAME.started, encodeU32(4_000_000_000)), 'started'), 4_000_000_000);
    assert.throws(() => decodeU32(frame(FRAME.started, Buffer.alloc(3)), 'started'), FrameError);
    assert.equal(decodeExit(frame(FRAME.exit, encodeU32(255))), 255);
    assert.throws(() => decodeExit(frame(FRAME.exit, encodeU32(256))), FrameError);
    assert.throws(() => encodeU32(-1), FrameError);
  });

  test('startFailed: a code of 125, 126 or 127 and a message', () => {
    assert.deepEqual(decodeStartFailed(frame(FRAME.startFailed, encodeStartFailed({ code: 127, message: 'x: command not found' }))),
      { code: 127, message: 'x: command not found' });
    assert.throws(() => decodeStartFailed(frame(FRAME.startFailed, Buffer.from([1, 65]))), FrameError);
    assert.throws(() => decodeStartFailed(frame(FRAME.startFailed, Buffer.alloc(0))), FrameError);
  });
});
