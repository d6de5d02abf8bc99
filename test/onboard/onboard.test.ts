// Onboarding's pieces on their own: each answer's check (what passes, what is asked again and
// why), what a rerun keeps, the tiers against the shipped presets, the profile on disk, the
// terminal line reader (hidden answers are never echoed), and the gateway's provider check,
// which must write nothing.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { forgetSecrets } from '../../src/audit/index.js';
import { TIERS_HELP } from '../../src/cli/onboard.js';
import { ask, PromptCancelled, TerminalPrompter, type Prompter } from '../../src/cli/onboard-prompt.js';
import { modelIds, ProviderOps } from '../../src/gateway/providers.js';
import { ProviderStore, providerProfiles } from '../../src/inference/index.js';
import {
  AnswerError, currentModel, defaultProviderName, defaultProviderType, keyVariable, modelProviderTypes, nextProfile, OnboardError, parseEndpoint,
  parseModel, parsePresets, parseProviderName, parseProviderType, parseTier, parseVariableName, parseYesNo, profilePresets, readOnboardProfile,
  requireOnboardProfile, routeInForce, sameProfile, TIER_NAMES, TIERS, tierPresets, writeOnboardProfile, type CurrentSetup, type OnboardProfile,
} from '../../src/onboard/index.js';
import { policyLoader } from '../../src/policy/index.js';
import { startMockProvider, type MockProvider } from '../inference/mock-provider.js';

const types = modelProviderTypes(providerProfiles().values());
const profileOf = (type: string) => providerProfiles().get(type)!;
const refused = (fn: () => unknown, message: RegExp) => assert.throws(fn, (error: unknown) => error instanceof AnswerError && message.test(error.message));

describe('answers', () => {
  test('provider type: by number or name, model providers only, in the wizard\'s order', () => {
    assert.deepEqual(types.map((p) => p.type), ['nvidia', 'openai', 'anthropic', 'ollama', 'vllm', 'openai-compatible']);
    assert.equal(parseProviderType('6', types).type, 'openai-compatible');
    assert.equal(parseProviderType(' Ollama ', types).type, 'ollama');
    refused(() => parseProviderType('github', types), /"github" is not a model provider type; one of: nvidia, openai/);
    refused(() => parseProviderType('7', types), /"7" is not a model provider type/);
    refused(() => parseProviderType('', types), /choose a provider type/);
  });

  test('provider name: well formed, and not taken by a provider of another type', () => {
    const existing = [{ name: 'gh', type: 'github' }, { name: 'local', type: 'vllm' }];
    assert.equal(parseProviderName('local', 'vllm', existing), 'local');
    refused(() => parseProviderName('gh', 'vllm', existing), /a provider named gh exists with type github; choose another name/);
    refused(() => parseProviderName('Bad Name', 'vllm', existing), /invalid provider name "Bad Name"/);
  });

  test('endpoint: an http(s) base URL with no user, password, query or fragment; no trailing slash', () => {
    assert.equal(parseEndpoint(' http://127.0.0.1:8000/v1/ '), 'http://127.0.0.1:8000/v1');
    refused(() => parseEndpoint('not a url'), /"not a url" is not a URL/);
    refused(() => parseEndpoint('ftp://h/v1'), /http:\/\/ or https:\/\/ URL, not ftp:/);
    refused(() => parseEndpoint('https://user:pw@h/v1'), /must not carry a user or password/);
    refused(() => parseEndpoint('https://h/v1?key=x'), /no \?query or #fragment/);
    refused(() => parseEndpoint(''), /an endpoint URL is needed/);
  });

  test('model: a name, or a number from the listed ones; no blanks or control characters', () => {
    assert.equal(parseModel('2', ['a', 'b']), 'b');
    assert.equal(parseModel('nvidia/nemotron-3-super-120b-a12b'), 'nvidia/nemotron-3-super-120b-a12b');
    assert.equal(parseModel('3', ['a', 'b']), '3', 'a number past the list is a name');
    refused(() => parseModel('two words'), /no spaces or control characters/);
    refused(() => parseModel('m\x1b[2J'), /no spaces or control characters/);
    refused(() => parseModel(''), /a model is needed/);
    refused(() => parseModel('x'.repeat(257)), /at most 256/);
  });

  test('tier, presets, yes/no, variable names', () => {
    assert.equal(parseTier('1'), 'restricted');
    assert.equal(parseTier('Balanced'), 'balanced');
    refused(() => parseTier('open'), /"open" is not a policy tier; one of: restricted, balanced, permissive/);
    const known = ['npm', 'pypi', 'slack'];
    assert.deepEqual(parsePresets('slack, npm npm', known), ['npm', 'slack'], 'sorted, without repeats: the same choice compares equal');
    assert.deepEqual(parsePresets(['pypi', 'npm'], known), ['npm', 'pypi']);
    assert.deepEqual(parsePresets('none', known), []);
    assert.deepEqual(parsePresets('', known), []);
    refused(() => parsePresets('npm,nosuch', known), /no preset named nosuch; shipped presets: npm, pypi, slack \(or none\)/);
    assert.equal(parseYesNo('', true), true);
    assert.equal(parseYesNo('No', true), false);
    refused(() => parseYesNo('maybe', true), /answer y or n/);
    assert.equal(parseVariableName('MY_KEY'), 'MY_KEY');
    refused(() => parseVariableName('MY_KEY=sk-123'), /give the variable's name only; a value on the command line is visible to every user in ps/);
    refused(() => parseVariableName('1X'), /expected an environment variable name/);
  });
});

describe('what a rerun keeps', () => {
  const nothing: CurrentSetup = { providers: [], routes: {}, profile: undefined };
  const profile: OnboardProfile = { version: 1, provider: 'nv', type: 'nvidia', api: 'openai', model: 'm1', tier: 'restricted', presets: ['slack'], updated_at: '2026-01-01T00:00:00.000Z' };
  const setUp: CurrentSetup = {
    providers: [{ name: 'nv', type: 'nvidia', credentials: ['NVIDIA_API_KEY'], endpoint: 'https://integrate.api.nvidia.com/v1' }],
    routes: { openai: { provider: 'nv', model: 'm1' } },
    profile,
  };

  test('defaults: the provider onboarded before, else one named after its type; NVIDIA first on a fresh home', () => {
    assert.equal(defaultProviderType(nothing), 'nvidia');
    assert.equal(defaultProviderType(setUp), 'nvidia');
    assert.equal(defaultProviderName('nvidia', setUp), 'nv');
    assert.equal(defaultProviderName('ollama', setUp), 'ollama');
    assert.equal(currentModel(setUp, 'openai', 'nv'), 'm1');
    assert.equal(currentModel(setUp, 'openai', 'other'), undefined);
    assert.equal(routeInForce(setUp, 'openai', 'nv', 'm1'), true);
    assert.equal(routeInForce(setUp, 'openai', 'nv', 'm2'), false);
  });

  test('the key variable: the one given, else the stored one, else the type\'s; none for ollama; another than the stored one is refused', () => {
    const existing = setUp.providers[0]!;
    assert.equal(keyVariable(profileOf('nvidia'), undefined, undefined), 'NVIDIA_API_KEY');
    assert.equal(keyVariable(profileOf('nvidia'), undefined, 'MY_NV'), 'MY_NV');
    assert.equal(keyVariable(profileOf('nvidia'), existing, undefined), 'NVIDIA_API_KEY');
    assert.equal(keyVariable(profileOf('openai-compatible'), undefined, undefined), 'API_KEY');
    assert.equal(keyVariable(profileOf('ollama'), undefined, undefined), undefined);
    refused(() => keyVariable(profileOf('ollama'), undefined, 'X'), /takes no key/);
    refused(() => keyVariable(profileOf('nvidia'), existing, 'OTHER'), /provider nv keeps its key in NVIDIA_API_KEY: give --credential NVIDIA_API_KEY/);
  });

  test('the profile: an answer left out keeps the current value; the same choice is the same profile', () => {
    const chosen = { provider: 'nv', type: 'nvidia', api: 'openai' as const, model: 'm1' };
    const kept = nextProfile(profile, chosen);
    assert.equal(kept.tier, 'restricted');
    assert.deepEqual(kept.presets, ['slack']);
    assert.ok(sameProfile(profile, kept), 'only the time differs');
    assert.equal(nextProfile(undefined, chosen).tier, 'balanced', 'the default tier on a first run');
    assert.deepEqual(nextProfile(profile, { ...chosen, presets: ['pypi', 'npm', 'npm'] }).presets, ['npm', 'pypi']);
    assert.ok(!sameProfile(profile, nextProfile(profile, { ...chosen, tier: 'balanced' })));
    assert.ok(!sameProfile(profile, nextProfile(profile, { ...chosen, model: 'm2' })));
    assert.ok(!sameProfile(profile, nextProfile(profile, { ...chosen, presets: [] })));
    assert.ok(!sameProfile(undefined, kept));
  });
});

describe('tiers', () => {
  test('every tier preset is a shipped preset; tiers only add to each other; no messaging preset is in any tier', async () => {
    const shipped = (await policyLoader()).listPresets().map((p) => p.name);
    for (const tier of TIER_NAMES) for (const preset of TIERS[tier].presets) assert.ok(shipped.includes(preset), `${tier}: ${preset}`);
    assert.deepEqual(TIERS.restricted.presets, []);
    for (const preset of TIERS.balanced.presets) assert.ok((TIERS.permissive.presets as readonly string[]).includes(preset), preset);
    for (const tier of TIER_NAMES) for (const messaging of ['slack', 'telegram', 'discord']) assert.ok(!(TIERS[tier].presets as readonly string[]).includes(messaging));
    assert.deepEqual(tierPresets('balanced', ['slack', 'npm']), ['npm', 'pypi', 'github', 'slack']);
  });

  test('the command\'s help names every tier', () => {
    for (const tier of TIER_NAMES) assert.match(TIERS_HELP, new RegExp(`\\b${tier}\\b`));
  });
});

describe('the onboarding profile on disk', () => {
  let home: string;
  before(() => { home = mkdtempSync(path.join(os.tmpdir(), 'warden-onboard-')); });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('none yet: undefined, and launch\'s read says how to make one', () => {
    assert.equal(readOnboardProfile(home), undefined);
    assert.throws(() => requireOnboardProfile(home), (e: unknown) => e instanceof OnboardError && e.code === 'not_onboarded' && /run `warden onboard`/.test(e.message));
  });

  test('written owner-only and read back; the presets it asks for are the tier\'s and the chosen ones', () => {
    const profile = nextProfile(undefined, { provider: 'nv', type: 'nvidia', api: 'openai', model: 'm', tier: 'balanced', presets: ['slack'] });
    writeOnboardProfile(home, profile);
    assert.equal(statSync(path.join(home, 'onboard.json')).mode & 0o777, 0o600);
    assert.deepEqual(readOnboardProfile(home), profile);
    assert.deepEqual(profilePresets(requireOnboardProfile(home)), ['npm', 'pypi', 'github', 'slack']);
  });

  test('a damaged profile is an error naming the file, never a silent default', () => {
    for (const text of ['{not json', JSON.stringify({ version: 1, provider: 'nv', type: 'nvidia', api: 'openai', model: 'm', tier: 'everything', presets: [], updated_at: '' })]) {
      writeFileSync(path.join(home, 'onboard.json'), text);
      assert.throws(() => readOnboardProfile(home), (e: unknown) => e instanceof OnboardError && e.code === 'bad_profile' && e.message.includes(path.join(home, 'onboard.json')));
    }
  });
});

/** A Prompter that answers from a list and keeps what it was told. */
function scripted(answers: string[]): Prompter & { said: string[]; asked: string[] } {
  const said: string[] = [];
  const asked: string[] = [];
  return {
    said, asked,
    question: (text) => {
      asked.push(text);
      const answer = answers.shift();
      return answer === undefined ? Promise.reject(new PromptCancelled(false)) : Promise.resolve(answer);
    },
    say: (text) => { said.push(text); },
  };
}

describe('asking', () => {
  test('a bad answer is asked again with the reason; Enter takes the default', async () => {
    const p = scripted(['wide-open', '']);
    assert.equal(await ask(p, 'Policy tier', parseTier, { default: 'balanced' }), 'balanced');
    assert.deepEqual(p.asked, ['Policy tier [balanced]: ', 'Policy tier [balanced]: ']);
    assert.match(p.said[0]!, /"wide-open" is not a policy tier/);
  });

  test('a parse that fails for another reason is not swallowed', async () => {
    await assert.rejects(ask(scripted(['x']), 'Q', () => { throw new Error('boom'); }), /boom/);
  });
});

describe('the terminal line reader', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'warden-prompt-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake terminal: what is typed goes to a stream with setRawMode; what is printed goes to a file. */
  function terminal() {
    const input = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(on: boolean) { this.rawModes.push(on); return this; } });
    const file = path.join(dir, `out-${Math.random().toString(16).slice(2)}`);
    const fd = openSync(file, 'w');
    const prompter = new TerminalPrompter(input as unknown as NodeJS.ReadStream, fd);
    return { input, prompter, printed: () => readFileSync(file, 'utf8'), close: () => closeSync(fd) };
  }

  test('typing, backspace, Ctrl-U and arrow keys edit the line; raw mode is on while asking and off after', async () => {
    const t = terminal();
    const answer = t.prompter.question('Name: ');
    t.input.write('lox\x7fcal\x1b[D');
    t.input.write('\r');
    assert.equal(await answer, 'local');
    assert.deepEqual(t.input.rawModes, [true, false]);
    const next = t.prompter.question('Again: ');
    t.input.write('junk\x15ok\n');
    assert.equal(await next, 'ok');
    assert.equal(t.printed(), `Name: lox\b \bcal\nAgain: junk${'\b \b'.repeat(4)}ok\n`);
    t.close();
  });

  test('a hidden answer is never printed; lines typed ahead wait for their question', async () => {
    const t = terminal();
    const first = t.prompter.question('Key: ', { hidden: true });
    t.input.write('sk-secret-canary\r\nsecond\r');
    assert.equal(await first, 'sk-secret-canary');
    assert.equal(await t.prompter.question('Next: '), 'second');
    assert.equal(t.printed(), 'Key: \nNext: second\n');
    t.close();
  });

  test('Ctrl-C cancels as an interrupt; Ctrl-D on an empty line and the end of input as an end', async () => {
    const t = terminal();
    const interrupted = t.prompter.question('Q: ');
    t.input.write('abc\x03');
    await assert.rejects(interrupted, (e: unknown) => e instanceof PromptCancelled && e.interrupted);
    const ended = t.prompter.question('Q: ');
    t.input.write('\x04');
    await assert.rejects(ended, (e: unknown) => e instanceof PromptCancelled && !e.interrupted);
    const closed = t.prompter.question('Q: ');
    t.input.end();
    await assert.rejects(closed, (e: unknown) => e instanceof PromptCancelled && !e.interrupted);
    assert.deepEqual(t.input.rawModes.filter((on) => on).length, t.input.rawModes.filter((on) => !on).length, 'raw mode always turned off again');
    t.close();
  });
});

describe('the gateway\'s provider check', () => {
  let home: string;
  let model: MockProvider;
  const KEY = 'sk-check-canary-0123456789';
  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'warden-check-'));
    model = await startMockProvider({ key: KEY, models: ['b-model', 'a-model'] });
  });
  after(async () => {
    await model.close();
    rmSync(home, { recursive: true, force: true });
    forgetSecrets();
  });

  test('a new provider that answers: its models, and nothing is written', async () => {
    const store = new ProviderStore(home);
    const audits: string[] = [];
    const ops = new ProviderOps(store, (kind) => audits.push(kind));
    const result = await ops.check({ name: 'local', type: 'openai-compatible', endpoint: model.url, credentials: { API_KEY: KEY } });
    assert.deepEqual(result, { name: 'local', type: 'openai-compatible', api: 'openai', endpoint: model.url, exists: false, changed: ['created'], models: ['a-model', 'b-model'] });
    assert.ok(!existsSync(store.dir), 'no provider directory made');
    assert.deepEqual(audits, []);
  });

  test('an existing provider: what would change, by name; a wrong key or a type clash fails and writes nothing', async () => {
    const store = new ProviderStore(home);
    const ops = new ProviderOps(store, () => undefined);
    store.create({ name: 'local', type: 'openai-compatible', endpoint: model.url, credentials: { API_KEY: KEY }, hosts: [] });
    const stored = readFileSync(path.join(store.dir, 'local.json'), 'utf8');
    assert.deepEqual((await ops.check({ name: 'local', type: 'openai-compatible' })).changed, []);
    assert.deepEqual((await ops.check({ name: 'local', type: 'openai-compatible', credentials: { API_KEY: KEY } })).changed, [], 'the same value is no change');
    await assert.rejects(ops.check({ name: 'local', type: 'openai-compatible', credentials: { API_KEY: 'sk-wrong' } }), /HTTP 401 \(is the key right\?\)\. Nothing was changed$/);
    await assert.rejects(ops.check({ name: 'local', type: 'vllm' }), /provider local exists with type openai-compatible, not vllm/);
    await assert.rejects(ops.check({ name: 'gh', type: 'github', credentials: { GITHUB_TOKEN: 'x' } }), /serves no models/);
    assert.equal(readFileSync(path.join(store.dir, 'local.json'), 'utf8'), stored);
  });

  test('model ids are read from OpenAI- and Anthropic-shaped listings, and anything else lists none', () => {
    assert.deepEqual(modelIds(JSON.stringify({ data: [{ id: 'b' }, { id: 'a' }, { id: 'a' }, { name: 'x' }, null] })), ['a', 'b']);
    assert.deepEqual(modelIds('<html>'), []);
    assert.deepEqual(modelIds(JSON.stringify({ models: [] })), []);
  });
});
