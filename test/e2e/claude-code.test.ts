// The second blueprint: the real Claude Code (npm `@anthropic-ai/claude-code`, its native Linux
// build) provisioned from the npm registry and run by `warden launch claude-code --chat`, against a
// local server speaking Anthropic's Messages API. Its model calls reach inference.local's
// Anthropic route with no key inside, and it makes no other connection (telemetry is off).
// The layer is cached in $TMPDIR/warden-e2e-layers, as for openclaw.test.ts.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type MockProvider, startMockProvider } from '../inference/mock-provider.js';
import { resultOf, SKIP_NO_BWRAP, tempDir, wardenAsync, type Result } from './helpers.js';

const KEY = 'sk-ant-canaryClaudeCode0123456789abcdefgh';
const LAYER_CACHE = path.join(os.tmpdir(), 'warden-e2e-layers');

describe('warden launch claude-code: the real Claude Code in a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  const scratch = tempDir('warden-e2e-claude-');
  chmodSync(scratch.dir, 0o711);
  const env = { WARDEN_HOME: path.join(scratch.dir, 'home'), WARDEN_LAYERS: LAYER_CACHE, ANTHROPIC_CANARY: KEY };
  const cli = (args: string[], timeoutMs = 120_000): Promise<Result> => wardenAsync(args, { env, timeoutMs }).done;
  const ok = async (args: string[], timeoutMs?: number): Promise<string> => {
    const result = await cli(args, timeoutMs);
    assert.equal(result.status, 0, `warden ${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  let mock: MockProvider;

  before(async () => {
    mkdirSync(LAYER_CACHE, { recursive: true, mode: 0o711 });
    mock = await startMockProvider({ key: KEY, words: 4 });
    await ok(['provider', 'create', 'claude', '--type', 'anthropic', '--endpoint', mock.url, '--credential', 'ANTHROPIC_CANARY']);
  });
  after(async () => {
    await cli(['gateway', 'stop']);
    await mock?.close();
    scratch.cleanup();
  });

  test('without an inference route, launch says what to run first and creates nothing', async () => {
    const result = await cli(['launch', 'claude-code', '--chat', 'hi']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no Anthropic-shaped inference route yet\. Run `warden onboard`/);
    assert.match(result.stderr, /warden inference set --provider NAME --model MODEL/);
    assert.equal((await cli(['sandbox', 'get', 'claude-code'])).status, 1, 'no sandbox was created');
  });

  test('provision, launch --chat: Claude Code answers through inference.local, with the key added outside', { timeout: 900_000 }, async () => {
    await ok(['inference', 'set', '--provider', 'claude', '--model', 'claude-mock']);
    const provisioned = await cli(['blueprint', 'provision', 'claude-code', '--json'], 900_000);
    assert.equal(provisioned.status, 0, `provisioning failed (is the npm registry reachable? CI needs it):\n${provisioned.stderr}${provisioned.stdout}`);
    // A message that starts like an option is still the message.
    const launched = resultOf(await ok(['launch', 'claude-code', '--chat', '--help me', '--json'], 300_000)) as { answer: string; layer: { cached: boolean }; sandbox: string };
    assert.equal(launched.answer, 'word0 word1 word2 word3');
    assert.equal(launched.layer.cached, true);
    const calls = mock.seen.filter((r) => r.path === '/v1/messages');
    assert.ok(calls.length >= 1);
    for (const call of calls) {
      assert.equal(call.headers['x-api-key'], KEY);
      assert.equal(call.body?.model, 'claude-mock');
    }
    assert.ok(calls.some((c) => JSON.stringify(c.body?.messages).includes('--help me')), 'the message reached the model as the message');
    const records = (await ok(['logs', 'claude-code', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; payload: { verdict?: string } });
    assert.ok(records.some((r) => r.kind === 'inference.call'));
    assert.deepEqual(records.filter((r) => r.kind === 'egress.verdict' && r.payload.verdict === 'deny'), [], 'no other connection was tried (no telemetry)');
    const inside = await ok(['exec', 'claude-code', '--', 'sh', '-c', `env | grep -c '${KEY.slice(0, 14)}' ; command -v claude`]);
    assert.equal(inside.trim(), '0\n/opt/warden/claude-code/bin/claude');
  });
});
