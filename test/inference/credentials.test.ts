// Providers on disk and credential placeholders: values stay owner-only and unprinted, and a
// placeholder becomes its value only on its provider's hosts, over TLS.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { forgetSecrets, redactText } from '../../src/audit/index.js';
import type { Decision } from '../../src/checkpoint/index.js';
import type { RequestContext } from '../../src/egress/index.js';
import { makePlaceholders, placeholderSwapper, ProviderStore, providerProfiles, uninspectedCredentialEndpoints, UsageMeter } from '../../src/inference/index.js';
import { defaultPolicy, type Policy } from '../../src/policy/index.js';

const TOKEN = 'ghp_canaryCanaryCanary0123456789abcdefXYZ';

describe('provider store', () => {
  let home: string;
  before(() => { home = mkdtempSync(path.join(os.tmpdir(), 'warden-providers-')); });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    forgetSecrets();
  });

  test('every shipped profile loads, and each type the docs name exists', () => {
    const types = [...providerProfiles().keys()];
    for (const type of ['openai', 'anthropic', 'nvidia', 'ollama', 'vllm', 'openai-compatible', 'github', 'gitlab', 'slack', 'telegram', 'discord', 'huggingface', 'generic']) {
      assert.ok(types.includes(type), type);
    }
  });

  test('values are kept owner-only, never shown, and registered for redaction once read', () => {
    const store = new ProviderStore(home);
    store.create({ name: 'gh', type: 'github', credentials: { GITHUB_TOKEN: TOKEN }, hosts: [] });
    assert.equal(statSync(store.dir).mode & 0o777, 0o700);
    for (const file of readdirSync(store.dir)) assert.equal(statSync(path.join(store.dir, file)).mode & 0o777, 0o600);
    assert.ok(readFileSync(path.join(store.dir, 'gh.json'), 'utf8').includes(TOKEN), 'the control: the value is in the file');
    const view = store.view(store.get('gh'));
    assert.deepEqual(view.credentials, ['GITHUB_TOKEN']);
    assert.ok(!JSON.stringify(view).includes(TOKEN));
    // A value of no known token shape is redacted because the store registered it when it read it.
    const plain = 'plain-canary-value-0123456789';
    store.create({ name: 'plain', type: 'generic', credentials: { SERVICE_PASS: plain }, hosts: ['service.example'] });
    forgetSecrets();
    assert.ok(redactText(`value ${plain}`).includes(plain), 'the control: unregistered, it is not redacted');
    new ProviderStore(home).list();
    assert.ok(!redactText(`value ${plain}`).includes(plain));
  });

  test('bad input is refused and changes nothing', () => {
    const store = new ProviderStore(home);
    const before = readdirSync(store.dir).sort();
    assert.throws(() => store.create({ name: 'Bad Name', type: 'github', credentials: { GITHUB_TOKEN: 'x' }, hosts: [] }), /invalid provider name/);
    assert.throws(() => store.create({ name: 'n', type: 'nope', credentials: {}, hosts: [] }), /unknown provider type/);
    assert.throws(() => store.create({ name: 'n', type: 'github', credentials: {}, hosts: [] }), /needs a credential/);
    assert.throws(() => store.create({ name: 'n', type: 'openai-compatible', credentials: {}, hosts: [] }), /needs --endpoint/);
    assert.throws(() => store.create({ name: 'n', type: 'generic', credentials: { X: 'y' }, hosts: [] }), /needs --host/);
    assert.throws(() => store.create({ name: 'n', type: 'openai-compatible', endpoint: 'http://user:pw@127.0.0.1/v1', credentials: {}, hosts: [] }), /user or password/);
    assert.throws(() => store.create({ name: 'gh', type: 'github', credentials: { GITHUB_TOKEN: 'x' }, hosts: [] }), /exists/);
    assert.deepEqual(readdirSync(store.dir).sort(), before);
  });

  test('a provider that serves a route cannot be deleted', () => {
    const store = new ProviderStore(home);
    store.create({ name: 'm', type: 'ollama', credentials: {}, hosts: [] });
    store.setRoute('openai', { provider: 'm', model: 'llama' });
    assert.throws(() => store.delete('m'), /serves the openai inference route/);
  });
});

describe('credential placeholders', () => {
  let home: string;
  let store: ProviderStore;
  before(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'warden-placeholders-'));
    store = new ProviderStore(home);
    store.create({ name: 'gh', type: 'github', credentials: { GITHUB_TOKEN: TOKEN }, hosts: [] });
    store.create({ name: 'tg', type: 'telegram', credentials: { TELEGRAM_BOT_TOKEN: '123456:tg-secret-value' }, hosts: [] });
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  const ctx = (host: string, tls = true): RequestContext => ({
    action: { type: 'http_request', layer: 'l7', host, port: 443, method: 'GET', target: '/' },
    subject: { sandbox: 'box', process: null }, decision: {} as Decision, tls,
  });

  test('the sandbox sees a placeholder per variable, never the value', () => {
    const { env, placeholders } = makePlaceholders(store, ['gh', 'tg']);
    assert.match(env.GITHUB_TOKEN!, /^wph_[0-9a-f]{32}$/);
    assert.notEqual(env.GITHUB_TOKEN, TOKEN);
    assert.deepEqual(placeholders[env.GITHUB_TOKEN!], { provider: 'gh', variable: 'GITHUB_TOKEN' });
    assert.notEqual(makePlaceholders(store, ['gh']).env.GITHUB_TOKEN, env.GITHUB_TOKEN, 'a new sandbox, new placeholders');
  });

  test('swapped in the authentication headers (Basic credentials too) and, for Telegram, the path; on the provider\'s hosts only', () => {
    const { env, placeholders } = makePlaceholders(store, ['gh', 'tg']);
    const swap = placeholderSwapper(store, () => placeholders);
    const basic = Buffer.from(`x-access-token:${env.GITHUB_TOKEN}`).toString('base64');
    const outgoing = { headers: ['Authorization', `Bearer ${env.GITHUB_TOKEN}`, 'X-Other', 'plain'], path: '/user?page=2' };
    assert.equal(swap(ctx('api.github.com'), outgoing), undefined);
    assert.deepEqual(outgoing.headers, ['Authorization', `Bearer ${TOKEN}`, 'X-Other', 'plain']);
    assert.equal(outgoing.path, '/user?page=2');
    const git = { headers: ['authorization', `Basic ${basic}`], path: '/org/repo.git/info/refs' };
    assert.equal(swap(ctx('github.com'), git), undefined);
    assert.equal(Buffer.from(git.headers[1]!.slice(6), 'base64').toString(), `x-access-token:${TOKEN}`);
    const bot = { headers: [], path: `/bot${env.TELEGRAM_BOT_TOKEN}/sendMessage?chat_id=1` };
    assert.equal(swap(ctx('api.telegram.org'), bot), undefined);
    assert.equal(bot.path, '/bot123456:tg-secret-value/sendMessage?chat_id=1');
  });

  test('never swapped where a server could echo it back: the query, other headers, a path the profile does not name', () => {
    const { env, placeholders } = makePlaceholders(store, ['gh', 'tg']);
    const swap = placeholderSwapper(store, () => placeholders);
    const echoes: Array<[string, { headers: string[]; path: string }]> = [
      ['api.github.com', { headers: [], path: `/search?q=${env.GITHUB_TOKEN}` }],
      ['api.github.com', { headers: ['X-Echo', env.GITHUB_TOKEN!], path: '/' }],
      ['api.github.com', { headers: [], path: `/repos/${env.GITHUB_TOKEN}` }],
      ['api.telegram.org', { headers: [], path: `/bot${env.TELEGRAM_BOT_TOKEN}/sendMessage?text=${env.TELEGRAM_BOT_TOKEN}` }],
      ['api.telegram.org', { headers: ['Authorization', `Bearer ${env.TELEGRAM_BOT_TOKEN}`], path: '/' }],
    ];
    for (const [host, outgoing] of echoes) {
      const before = JSON.stringify(outgoing);
      const verdict = swap(ctx(host), outgoing);
      assert.equal(verdict?.code, 'credential_endpoint_mismatch', before);
      assert.match(verdict!.reason, /swapped only in/);
      assert.equal(JSON.stringify(outgoing), before, 'nothing swapped');
    }
  });

  test('a placeholder sent anywhere else refuses the request, and nothing is swapped', () => {
    const { env, placeholders } = makePlaceholders(store, ['gh', 'tg']);
    const swap = placeholderSwapper(store, () => placeholders);
    const cases: Array<[RequestContext, { headers: string[]; path: string }]> = [
      [ctx('evil.example'), { headers: ['Authorization', `token ${env.GITHUB_TOKEN}`], path: '/' }],
      [ctx('api.telegram.org'), { headers: ['Authorization', `token ${env.GITHUB_TOKEN}`], path: '/' }],
      [ctx('evil.example'), { headers: [], path: `/x?q=${env.GITHUB_TOKEN}` }],
      [ctx('evil.example'), { headers: [], path: `/x?q=${env.GITHUB_TOKEN!.replace('wph_', 'wph%5f')}` }],
      [ctx('evil.example'), { headers: ['Authorization', `Basic ${Buffer.from(`u:${env.GITHUB_TOKEN}`).toString('base64')}`], path: '/' }],
      [ctx('api.github.com', false), { headers: ['Authorization', `Bearer ${env.GITHUB_TOKEN}`], path: '/' }],
    ];
    for (const [context, outgoing] of cases) {
      const before = JSON.stringify(outgoing);
      const verdict = swap(context, outgoing);
      assert.equal(verdict?.code, 'credential_endpoint_mismatch', before);
      assert.equal(JSON.stringify(outgoing), before);
      assert.ok(!JSON.stringify(verdict).includes(TOKEN));
    }
  });

  test('a policy whose endpoint would carry a credential uninspected is refused', () => {
    const policy: Policy = {
      ...defaultPolicy(),
      network_policies: { gh: { name: 'gh', endpoints: [{ host: 'api.github.com', ports: [443] }], binaries: [{ path: '/usr/bin/curl' }] } },
    };
    assert.match(uninspectedCredentialEndpoints(policy, ['api.github.com'])[0]!, /not inspected/);
    const inspected: Policy = {
      ...policy,
      network_policies: { gh: { name: 'gh', endpoints: [{ host: '*.github.com', ports: [443], protocol: 'rest', access: 'full' }], binaries: [{ path: '/usr/bin/curl' }] } },
    };
    assert.deepEqual(uninspectedCredentialEndpoints(inspected, ['api.github.com']), []);
  });
});

describe('usage meter', () => {
  test('reads usage from JSON answers and from OpenAI and Anthropic event streams', () => {
    const json = new UsageMeter('application/json');
    json.push(Buffer.from('{"usage":{"prompt_tokens":7,'));
    json.push(Buffer.from('"completion_tokens":3}}'));
    assert.deepEqual(json.end(), { input: 7, output: 3 });
    const anthropic = new UsageMeter('text/event-stream');
    const events = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":11,"output_tokens":1}}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n';
    for (let i = 0; i < events.length; i += 7) anthropic.push(Buffer.from(events.slice(i, i + 7)));
    assert.deepEqual(anthropic.end(), { input: 11, output: 9 });
    const openai = new UsageMeter('text/event-stream; charset=utf-8');
    openai.push(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}\n\ndata: [DONE]\n\n'));
    assert.deepEqual(openai.end(), { input: 4, output: 2 });
  });
});
