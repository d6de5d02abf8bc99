// Bounded fuzzing of the parsers that face sandboxes and clients: random and mutated input must
// never crash or wedge them. Deterministic (seeded, and a fixed number of runs, so a failure replays
// and no result depends on the machine's speed), and small enough to run in the suite.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeExit, decodeResize, decodeSignal, decodeStart, decodeStartFailed, encodeFrame, encodeStart, FRAME, FrameDecoder, FrameError, type Frame } from '../../src/sandbox/frames.js';
import { readJsonLine } from '../../src/gateway/protocol.js';
import { WebSocketFrameGuard } from '../../src/egress/websocket.js';
import { policy, startProxy, type ProxyFixture } from './helpers.js';
import { waitFor } from '../wait.js';

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 20261205);
/** Runs per test are multiplied by this (WARDEN_FUZZ_SCALE=20 for a longer fuzz). */
const SCALE = Number(process.env.WARDEN_FUZZ_SCALE ?? 1);
const runsOf = (n: number): number => Math.max(1, Math.round(n * SCALE));

function bytes(next: () => number, max: number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(next() * max) }, () => Math.floor(next() * 256)));
}

/** Flips, inserts and deletes bytes of a valid sample. */
function mutate(next: () => number, sample: Buffer): Buffer {
  const out = [...sample];
  for (let edits = 1 + Math.floor(next() * 6); edits > 0; edits--) {
    const at = Math.floor(next() * (out.length + 1));
    const op = next();
    if (op < 0.4 && out.length > 0) out[Math.min(at, out.length - 1)] = Math.floor(next() * 256);
    else if (op < 0.7) out.splice(at, 0, Math.floor(next() * 256));
    else out.splice(at, 1 + Math.floor(next() * 8));
  }
  return Buffer.from(out);
}

const REQUESTS = [
  'GET http://api.test:PORT/ok HTTP/1.1\r\nHost: api.test:PORT\r\n\r\n',
  'CONNECT api.test:PORT HTTP/1.1\r\nHost: api.test:PORT\r\n\r\n',
  'POST http://api.test:PORT/x HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET http://api.test:PORT/ HTTP/1.1\r\nUpgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n',
  'GET http://api.test:PORT/%2e%2e/%2F?a=%ZZ HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc',
];

describe('fuzz: frames and gateway lines', () => {
  test('the frame decoder and every payload decoder only ever throw FrameError', () => {
    const next = random(SEED);
    const samples = [
      encodeFrame(FRAME.start, 1, encodeStart({ argv: ['sh', '-c', 'true'], env: { A: 'b' }, cwd: '/', tty: { rows: 24, cols: 80 } })),
      encodeFrame(FRAME.resize, 2, Buffer.from([0, 24, 0, 80])), encodeFrame(FRAME.signal, 3, Buffer.from([2])),
      encodeFrame(FRAME.exit, 4, Buffer.from([0, 0, 0, 1])), encodeFrame(FRAME.startFailed, 5, Buffer.from([127, 65])),
    ];
    const decoders: Array<(frame: Frame) => unknown> = [decodeStart, decodeResize, decodeSignal, decodeExit, decodeStartFailed];
    for (let runs = 0; runs < runsOf(40_000); runs++) {
      const input = next() < 0.5 ? bytes(next, 200) : mutate(next, samples[Math.floor(next() * samples.length)]!);
      try {
        const decoder = new FrameDecoder();
        for (let at = 0; at < input.length; at += 1 + Math.floor(next() * 16)) {
          for (const frame of decoder.push(input.subarray(at, at + 16))) {
            for (const decode of decoders) {
              try {
                decode(frame);
              } catch (error) {
                assert.ok(error instanceof FrameError, `a payload decoder threw ${(error as Error).name}: ${(error as Error).message} (seed ${SEED}, run ${runs})`);
              }
            }
          }
        }
      } catch (error) {
        assert.ok(error instanceof FrameError, `the decoder threw ${(error as Error).name} (seed ${SEED}, run ${runs})`);
      }
    }
  });

  test('the gateway request reader answers every input with a value or a GatewayError, never hangs', async () => {
    const next = random(SEED + 1);
    for (let runs = 0; runs < runsOf(3000); runs++) {
      const sample = Buffer.from('{"op":"sandbox.list","args":{"name":"x"}}\n');
      const input = next() < 0.5 ? bytes(next, 300) : mutate(next, sample);
      const { PassThrough } = await import('node:stream');
      const stream = new PassThrough();
      const reading = readJsonLine(stream, 1024).then(() => 'value', (error: Error) => error.name);
      stream.end(input);
      const outcome = await reading;
      assert.ok(outcome === 'value' || outcome === 'GatewayError', `seed ${SEED + 1}, run ${runs}: ${outcome}`);
    }
  });

  test('the WebSocket frame guard errors cleanly on anything', async () => {
    const next = random(SEED + 2);
    for (let runs = 0; runs < runsOf(8000); runs++) {
      const guard = new WebSocketFrameGuard(next() < 0.5 ? 'client' : 'server');
      const ended = new Promise<string>((resolve) => {
        guard.on('error', (error) => resolve(error.name));
        guard.on('end', () => resolve('end'));
        guard.resume();
      });
      guard.end(bytes(next, 64));
      const outcome = await ended;
      assert.ok(outcome === 'end' || outcome === 'Error', `seed ${SEED + 2}, run ${runs}: ${outcome}`);
    }
  });
});

describe('fuzz: the egress proxy', () => {
  let fx: ProxyFixture;
  let upstream: net.Server;
  let port = 0;
  const upstreamSockets = new Set<net.Socket>();
  before(async () => {
    upstream = net.createServer((s) => {
      upstreamSockets.add(s);
      s.on('close', () => upstreamSockets.delete(s));
      s.on('error', () => undefined);
      s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as net.AddressInfo).port;
    fx = await startProxy(policy('self', [{ host: 'api.test', ports: [port], allowed_ips: ['127.0.0.1'] }], [process.execPath]));
  });
  after(async () => {
    await fx.close();
    for (const socket of upstreamSockets) socket.destroy();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  test('random and mutated requests never crash or wedge it; a proper request is served afterwards', async () => {
    const next = random(SEED + 3);
    for (let runs = 0; runs < runsOf(300); runs++) {
      const sample = Buffer.from(REQUESTS[Math.floor(next() * REQUESTS.length)]!.replaceAll('PORT', String(port)));
      const input = next() < 0.3 ? bytes(next, 400) : mutate(next, sample);
      // Everything sent, the client closes its side: the proxy must close too. No timeout here:
      // a wedged connection fails the test (by the runner's timeout) instead of being let go.
      await new Promise<void>((resolve) => {
        const socket = net.connect(fx.port, '127.0.0.1');
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.on('data', () => undefined);
        socket.on('connect', () => {
          socket.write(input);
          socket.end();
        });
      });
    }
    // Still serving, and still deciding.
    const ok = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(fx.port, '127.0.0.1', () => socket.write(`GET http://api.test:${port}/ok HTTP/1.1\r\nHost: api.test:${port}\r\nConnection: close\r\n\r\n`));
      let text = '';
      socket.on('data', (d: Buffer) => { text += d.toString(); });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(ok, /^HTTP\/1\.1 200 /);
    // The proxy's side of the last connection closes just after the client's: no connection was left hanging.
    await waitFor(() => fx.proxy.connections === 0, () => `the proxy to count no connection (${fx.proxy.connections})`);
  });
});
