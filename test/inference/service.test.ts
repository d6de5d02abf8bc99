// inference.local in-process: routes, headers, keys, models, budgets, streaming and records,
// against the local mock provider (no sandbox; the e2e test covers the sandbox's side).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createCheckpoint, type Subject } from '../../src/checkpoint/index.js';
import type { DecisionRecord } from '../../src/audit/index.js';
import { createInferenceService, type ModelCallRecord, ProviderStore } from '../../src/inference/index.js';
import { defaultPolicy, type Policy } from '../../src/policy/index.js';
import { type MockProvider, startMockProvider } from './mock-provider.js';

const KEY = 'sk-canary-service-0123456789abcdefABCDEF';
const subject: Subject = { sandbox: 'box', process: { pid: 1, exe: '/usr/bin/curl', exeSha256: 'a'.repeat(64), ancestors: [] } };

describe('inference.local', () => {
  let home: string;
  let mock: MockProvider;
  let store: ProviderStore;
  let policy: Policy;
  let records: DecisionRecord[];
  let calls: ModelCallRecord[];
  let server: http.Server;
  let base: string;
  let inference: ReturnType<typeof createInferenceService>;

  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'warden-inference-'));
    mock = await startMockProvider({ key: KEY });
    store = new ProviderStore(home);
    store.create({ name: 'local', type: 'openai-compatible', endpoint: mock.url, credentials: { API_KEY: KEY }, hosts: [] });
    store.create({ name: 'claude', type: 'anthropic', endpoint: mock.url, credentials: { ANTHROPIC_API_KEY: KEY }, hosts: [] });
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policy, recorder: (record) => { records.push(record); } });
    inference = createInferenceService({ checkpoint, store, recordCall: (call) => calls.push(call) });
    server = http.createServer((req, res) => inference.service(req, res, {
      action: { type: 'http_request', layer: 'l7', host: 'inference.local', port: 443, method: req.method ?? 'GET', target: req.url ?? '/' },
      subject, startedAt: performance.now(),
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    after(() => inference.close());
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await mock.close();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    policy = { ...defaultPolicy(), inference: {} };
    records = [];
    calls = [];
    mock.seen.length = 0;
  });

  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('with no route set, a model call is refused (503, no_inference_route) and recorded', async () => {
    rmSync(path.join(home, 'inference.json'), { force: true });
    const res = await post('/v1/chat/completions', { model: 'x', messages: [] });
    assert.equal(res.status, 503);
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'no_inference_route');
    assert.match(body.error.message, /warden inference set/);
    assert.equal(mock.seen.length, 0);
    assert.equal(records.at(-1)?.verdict, 'deny');
  });

  test('a policy without an inference section makes no model calls (deny by default)', async () => {
    policy = defaultPolicy();
    store.setRoute('openai', { provider: 'local', model: 'configured-model' });
    const res = await post('/v1/chat/completions', { messages: [] });
    assert.equal(res.status, 403);
    assert.match((await res.json() as { error: { message: string } }).error.message, /no inference section/);
    assert.equal(mock.seen.length, 0);
  });

  describe('with routes set', () => {
    before(() => {
      store.setRoute('openai', { provider: 'local', model: 'configured-model' });
      store.setRoute('anthropic', { provider: 'claude', model: 'claude-configured' });
    });

    test('the key is the provider\'s, the caller\'s credentials and unknown headers are dropped, the model is the route\'s', async () => {
      const res = await post('/v1/chat/completions', { model: 'gpt-whatever', messages: [{ role: 'user', content: 'hi' }] },
        { authorization: 'Bearer sk-from-the-agent', 'x-api-key': 'agent-key', cookie: 'a=b', 'x-custom': 'smuggled' });
      assert.equal(res.status, 200);
      const body = await res.json() as { model: string; choices: Array<{ message: { content: string } }> };
      assert.equal(body.model, 'configured-model');
      const seen = mock.seen.at(-1)!;
      assert.equal(seen.headers.authorization, `Bearer ${KEY}`);
      assert.equal(seen.headers['x-api-key'], undefined);
      assert.equal(seen.headers.cookie, undefined);
      assert.equal(seen.headers['x-custom'], undefined);
      assert.equal(seen.body?.model, 'configured-model');
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.provider, 'local');
      assert.equal(calls[0]!.tokens_out, 5);
      assert.ok(calls[0]!.tokens_in > 0);
      assert.equal(records.at(-1)?.verdict, 'allow');
      assert.ok(!JSON.stringify([records, calls]).includes(KEY), 'no key in records');
      assert.ok(!JSON.stringify([records, calls]).includes('hi'), 'no prompt in records');
    });

    test('Anthropic messages get the Anthropic route, its key in x-api-key and an anthropic-version', async () => {
      const res = await post('/v1/messages', { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.status, 200);
      const seen = mock.seen.at(-1)!;
      assert.equal(seen.headers['x-api-key'], KEY);
      assert.equal(seen.headers.authorization, undefined);
      assert.equal(seen.headers['anthropic-version'], '2023-06-01');
      assert.equal(seen.body?.model, 'claude-configured');
    });

    test('streamed answers pass through as events, and their usage is counted', async () => {
      const res = await post('/v1/messages', { model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const text = await res.text();
      assert.match(text, /event: message_start/);
      assert.match(text, /event: message_stop/);
      assert.equal(calls.at(-1)!.tokens_out, 5);
      assert.ok(calls.at(-1)!.tokens_in > 0);
    });

    test('only the model routes exist: anything else is 403 and the connection is closed', async () => {
      for (const [method, route] of [['GET', '/v1/files'], ['POST', '/v1/chat/completions/../../admin'], ['DELETE', '/v1/models'], ['GET', '/']] as const) {
        const res = await fetch(base + route, { method });
        assert.equal(res.status, 403, `${method} ${route}`);
        assert.equal(res.headers.get('connection'), 'close');
      }
      assert.equal(mock.seen.length, 0);
    });

    test('GET /v1/models lists the route\'s model (and the policy\'s), without calling the provider', async () => {
      const res = await fetch(base + '/v1/models');
      const body = await res.json() as { data: Array<{ id: string }> };
      assert.deepEqual(body.data.map((m) => m.id), ['configured-model']);
      assert.equal(mock.seen.length, 0);
    });

    test('with inference.models, the caller\'s model must be listed and is passed as asked', async () => {
      policy = { ...defaultPolicy(), inference: { models: ['small', 'large'] } };
      const refused = await post('/v1/chat/completions', { model: 'huge', messages: [] });
      assert.equal(refused.status, 403);
      assert.equal((await refused.json() as { error: { code: string } }).error.code, 'model_not_allowed');
      const ok = await post('/v1/chat/completions', { model: 'large', messages: [] });
      assert.equal(ok.status, 200);
      assert.equal(mock.seen.at(-1)!.body?.model, 'large');
      const listed = await fetch(base + '/v1/models');
      assert.equal(listed.status, 200, 'listing names no model, and is not refused for it');
      assert.deepEqual((await listed.json() as { data: Array<{ id: string }> }).data.map((m) => m.id), ['configured-model', 'small', 'large']);
    });

    test('inference.allowed_routes names the providers a sandbox may use', async () => {
      policy = { ...defaultPolicy(), inference: { allowed_routes: ['claude'] } };
      assert.equal((await post('/v1/chat/completions', { messages: [] })).status, 403);
      assert.equal((await post('/v1/messages', { max_tokens: 1, messages: [] })).status, 200);
    });

    test('over the token budget, calls get 429 budget_exceeded, and the budget applies live', async () => {
      policy = { ...defaultPolicy(), inference: { token_budget: 1 } };
      // The first call is within budget (nothing spent yet when it is decided)...
      let res = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
      assert.ok(res.status === 200 || res.status === 429);
      await res.arrayBuffer();
      res = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
      assert.equal(res.status, 429);
      const body = await res.json() as { error: { code: string } };
      assert.equal(body.error.code, 'budget_exceeded');
      assert.equal(records.at(-1)?.code, 'budget_exceeded');
      policy = { ...defaultPolicy(), inference: { token_budget: 1e9 } };
      assert.equal((await post('/v1/chat/completions', { messages: [] })).status, 200);
    });

    test('upstream errors come back with their status and body; an unreachable provider is a 502', async () => {
      policy = { ...defaultPolicy(), inference: { models: ['fail-500'] } };
      const failed = await post('/v1/chat/completions', { model: 'fail-500', messages: [] });
      assert.equal(failed.status, 500);
      assert.match(await failed.text(), /overloaded/);
      policy = { ...defaultPolicy(), inference: {} };
      store.create({ name: 'gone', type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', credentials: {}, hosts: [] });
      store.setRoute('openai', { provider: 'gone', model: 'm' });
      try {
        const unreachable = await post('/v1/chat/completions', { messages: [] });
        assert.equal(unreachable.status, 502);
        assert.equal((await unreachable.json() as { error: { code: string } }).error.code, 'upstream_error');
      } finally {
        store.setRoute('openai', { provider: 'local', model: 'configured-model' });
      }
    });

    test('tools the provider would run itself are refused unless the policy allows them', async () => {
      const calls = [
        ['/v1/responses', { input: 'x', tools: [{ type: 'mcp', server_url: 'https://attacker.test/mcp' }] }],
        ['/v1/responses', { input: 'x', tools: [{ type: 'web_search' }] }],
        ['/v1/messages', { max_tokens: 1, messages: [], mcp_servers: [{ type: 'url', url: 'https://attacker.test/' }] }],
        ['/v1/messages', { max_tokens: 1, messages: [], tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }],
      ] as const;
      for (const [route, body] of calls) {
        const res = await post(route, body);
        assert.equal(res.status, 403, route);
        const text = await res.text();
        assert.match(text, /server_tool_not_allowed/);
      }
      assert.equal(mock.seen.length, 0);
      const own = await post('/v1/messages', { max_tokens: 1, messages: [], tools: [{ name: 'lookup', input_schema: {} }, { type: 'bash_20250124', name: 'bash' }] });
      assert.equal(own.status, 200, 'tools the agent runs itself pass');
      policy = { ...defaultPolicy(), inference: { server_tools: true } };
      assert.equal((await post('/v1/responses', { input: 'x', tools: [{ type: 'web_search' }] })).status, 200);
    });

    test('bodies too deep or too structured to parse safely are refused, and the service keeps serving', async () => {
      const deep = `{"model":"a","messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const res = await fetch(base + '/v1/chat/completions', { method: 'POST', body: deep });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /nests deeper/);
      const wide = `{"messages":[${Array(150_000).fill('{}').join(',')}]}`;
      assert.equal((await fetch(base + '/v1/chat/completions', { method: 'POST', body: wide })).status, 400);
      assert.equal((await post('/v1/chat/completions', { messages: [] })).status, 200);
    });

    test('calls running at once hold their tokens: parallel calls cannot overspend the budget', async () => {
      // A provider slow enough that every call is still running when the last is decided.
      const slow = await startMockProvider({ key: KEY, eventDelayMs: 100 });
      store.create({ name: 'slow', type: 'openai-compatible', endpoint: slow.url, credentials: { API_KEY: KEY }, hosts: [] });
      store.setRoute('openai', { provider: 'slow', model: 'm' });
      try {
        policy = { ...defaultPolicy(), inference: { token_budget: inference.tokensUsed + 5000 } };
        // Each call holds its output limit (max_tokens) and its input while it runs: the budget
        // admits calls until the holds reach it (here three), whatever they end up spending.
        const results = await Promise.all(Array.from({ length: 10 }, () => post('/v1/chat/completions', { stream: true, max_tokens: 2000, messages: [] })));
        await Promise.all(results.map((r) => r.arrayBuffer()));
        assert.equal(results.filter((r) => r.status === 200).length, 3);
        assert.equal(results.filter((r) => r.status === 429).length, 7);
      } finally {
        store.setRoute('openai', { provider: 'local', model: 'configured-model' });
        await slow.close();
      }
    });

    test('with a budget, a streamed OpenAI chat call is asked for its usage, and counted', async () => {
      policy = { ...defaultPolicy(), inference: { token_budget: 1e9 } };
      const res = await post('/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: 'x' }] });
      await res.text();
      assert.deepEqual(mock.seen.at(-1)!.body?.stream_options, { include_usage: true });
      assert.equal(calls.at(-1)!.tokens_out, 5);
    });

    test('a body that is not a JSON object is refused before anything is sent', async () => {
      const res = await fetch(base + '/v1/chat/completions', { method: 'POST', body: 'not json' });
      assert.equal(res.status, 400);
      assert.equal(mock.seen.length, 0);
    });

    test('a route change reaches the next call (a file written by another process)', async () => {
      new ProviderStore(home).setRoute('openai', { provider: 'local', model: 'switched-model' });
      await (await post('/v1/chat/completions', { messages: [] })).arrayBuffer();
      assert.equal(mock.seen.at(-1)!.body?.model, 'switched-model');
      store.setRoute('openai', { provider: 'local', model: 'configured-model' });
    });
  });
});
