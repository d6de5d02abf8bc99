// inference.local benchmarks: the same local model server called directly and through warden
// (a CONNECT tunnel to inference.local, TLS terminated by the proxy, the model call decided by the
// checkpoint, the key injected, the answer streamed back), interleaved in the same run:
//   (a) added latency p50/p99 of small non-streaming chat completions (keep-alive)
//   (b) added time to the first streamed event, for a stream at a model's pace
//   (c) streamed tokens per second at a fast model's pace (an event a millisecond), through
//       warden / direct; and, for reference, the relay's ceiling when the server floods events
// The model server runs in its own process. Run standalone: node dist/bench/inference.js

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createCheckpoint } from '../src/checkpoint/index.js';
import { createEgressProxy, createSandboxCA, descendantIdentifier } from '../src/egress/index.js';
import { createInferenceService, ProviderStore } from '../src/inference/index.js';
import { defaultPolicy } from '../src/policy/index.js';
import { type Row, median, percentile } from './table.js';

const GROUP = 'inference.local';
const KEY = 'sk-bench-0123456789abcdefghijklmnop';
const SMALL_CALLS = 400;
const STREAM_CALLS = 40;
const STREAM_EVENTS = 2000;
const PACED_CALLS = 20;
const PACED_EVENTS = 500;

const MOCK_SCRIPT = `
import(process.argv[1]).then(async ({ startMockProvider }) => {
  const mock = await startMockProvider(JSON.parse(process.argv[2]));
  process.stdout.write(String(mock.port) + '\\n');
});`;

async function startMockProcess(words: number, eventDelayMs = 0): Promise<{ url: string; child: ChildProcess }> {
  const module = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/inference/mock-provider.js');
  const child = spawn(process.execPath, ['-e', MOCK_SCRIPT, module, JSON.stringify({ key: KEY, words, eventDelayMs })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the mock provider exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}/v1`, child };
}

/** An agent whose connections go through the proxy's CONNECT, then TLS to inference.local. */
function tunnelAgent(proxyPort: number, ca: string): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, done: (error: Error | null, socket?: net.Socket) => void) => {
    const raw = net.connect(proxyPort, '127.0.0.1', () => raw.write('CONNECT inference.local:443 HTTP/1.1\r\nHost: inference.local:443\r\n\r\n'));
    raw.once('data', (head: Buffer) => {
      if (!head.toString().startsWith('HTTP/1.1 200')) return done(new Error(`CONNECT refused: ${head.toString().split('\r\n')[0]}`));
      const secure = tls.connect({ socket: raw, servername: 'inference.local', ca });
      secure.once('secureConnect', () => done(null, secure));
      secure.once('error', (error) => done(error));
    });
    raw.once('error', (error) => done(error));
    return undefined;
  };
  return agent;
}

interface Timing {
  total: number;
  firstByte: number;
}

function call(url: string, agent: http.Agent, body: object, secure: boolean): Promise<Timing> {
  const started = performance.now();
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, {
      method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), authorization: `Bearer ${KEY}` },
    }, (res) => {
      let firstByte = 0;
      res.on('data', () => {
        if (firstByte === 0) firstByte = performance.now() - started;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ total: performance.now() - started, firstByte }) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

export async function benchInference(log: (line: string) => void = () => undefined): Promise<Row[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-inference-'));
  const small = await startMockProcess(5);
  const streaming = await startMockProcess(STREAM_EVENTS);
  const paced = await startMockProcess(PACED_EVENTS, 1);
  const store = new ProviderStore(home);
  store.create({ name: 'small', type: 'openai-compatible', endpoint: small.url, credentials: { API_KEY: KEY }, hosts: [] });
  store.create({ name: 'stream', type: 'openai-compatible', endpoint: streaming.url, credentials: { API_KEY: KEY }, hosts: [] });
  store.create({ name: 'paced', type: 'openai-compatible', endpoint: paced.url, credentials: { API_KEY: KEY }, hosts: [] });
  const policy = { ...defaultPolicy(), inference: {} };
  const checkpoint = createCheckpoint({ sandbox: 'bench', policy: () => policy, recorder: () => undefined });
  const inference = createInferenceService({ checkpoint, store, recordCall: () => undefined });
  const ca = createSandboxCA({ name: 'bench sandbox' });
  const proxy = createEgressProxy({
    checkpoint, identify: descendantIdentifier(process.pid), ca, resolve: async () => ['127.0.0.1'],
    hooks: { localServices: { 'inference.local': inference.service } },
  });
  const { port } = await proxy.listen(0, '127.0.0.1');
  const direct = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const via = tunnelAgent(port, ca.certPem);
  const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const rows: Row[] = [];
  try {
    log('inference.local: small calls ...');
    store.setRoute('openai', { provider: 'small', model: 'm' });
    const directTimes: number[] = [];
    const viaTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      await call(`${small.url}/chat/completions`, direct, request, false);
      await call('https://inference.local/v1/chat/completions', via, request, true);
    }
    for (let i = 0; i < SMALL_CALLS; i++) {
      directTimes.push((await call(`${small.url}/chat/completions`, direct, request, false)).total);
      viaTimes.push((await call('https://inference.local/v1/chat/completions', via, request, true)).total);
    }
    const added50 = median(viaTimes) - median(directTimes);
    const added99 = percentile(viaTimes, 99) - percentile(directTimes, 99);
    rows.push({ group: GROUP, name: 'added latency, small chat completion, p50', value: added50, unit: 'ms', target: '< 1', pass: added50 < 1, note: `${SMALL_CALLS} calls each way, keep-alive; direct p50 ${median(directTimes).toFixed(3)} ms` });
    rows.push({ group: GROUP, name: 'added latency, small chat completion, p99', value: added99, unit: 'ms' });

    log('inference.local: streams ...');
    store.setRoute('openai', { provider: 'stream', model: 'm' });
    const streamRequest = { ...request, stream: true };
    const firstDirect: number[] = [];
    const firstVia: number[] = [];
    const rateDirect: number[] = [];
    const rateVia: number[] = [];
    for (let i = 0; i < STREAM_CALLS; i++) {
      const d = await call(`${streaming.url}/chat/completions`, direct, streamRequest, false);
      const v = await call('https://inference.local/v1/chat/completions', via, streamRequest, true);
      rateDirect.push(STREAM_EVENTS / (d.total / 1000));
      rateVia.push(STREAM_EVENTS / (v.total / 1000));
    }
    const flood = median(rateVia) / median(rateDirect);

    log('inference.local: streams at a model\'s pace ...');
    store.setRoute('openai', { provider: 'paced', model: 'm' });
    const pacedDirect: number[] = [];
    const pacedVia: number[] = [];
    for (let i = 0; i < PACED_CALLS; i++) {
      const d = await call(`${paced.url}/chat/completions`, direct, streamRequest, false);
      const v = await call('https://inference.local/v1/chat/completions', via, streamRequest, true);
      firstDirect.push(d.firstByte);
      firstVia.push(v.firstByte);
      pacedDirect.push(PACED_EVENTS / (d.total / 1000));
      pacedVia.push(PACED_EVENTS / (v.total / 1000));
    }
    // The first event of a stream at a model's pace arrives alone, as a first token does; in a
    // flood it shares its read with thousands of others, which measures the relay, not the wait.
    const addedFirst = median(firstVia) - median(firstDirect);
    rows.push({ group: GROUP, name: 'added time to first streamed event, p50', value: addedFirst, unit: 'ms', target: '< 1', pass: addedFirst < 1, note: `${PACED_CALLS} streams each way at a model's pace` });
    const ratio = median(pacedVia) / median(pacedDirect);
    rows.push({ group: GROUP, name: 'streamed tokens/s, through warden / direct', value: ratio, unit: 'ratio', target: '>= 0.95', pass: ratio >= 0.95, note: `a token an event, the server sending one a millisecond (faster than hosted models stream); ${PACED_EVENTS} per stream, ${PACED_CALLS} streams each way; direct ${median(pacedDirect).toFixed(0)} tokens/s` });
    rows.push({ group: GROUP, name: 'reference: streamed events/s when the server floods them, through warden / direct', value: flood, unit: 'ratio', note: `the relay's ceiling: ${STREAM_EVENTS} events per stream written back to back; direct ${median(rateDirect).toFixed(0)} events/s` });
  } finally {
    direct.destroy();
    via.destroy();
    await proxy.close();
    inference.close();
    small.child.kill();
    streaming.child.kill();
    paced.child.kill();
    fs.rmSync(home, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchInference((line) => process.stderr.write(`${line}\n`)).then((rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'), (error: unknown) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 1;
  });
}
