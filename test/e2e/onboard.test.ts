// `warden onboard` end to end, against a local OpenAI-compatible model server that checks its
// key: the non-interactive form (create, identical rerun, a change of one answer, a wrong key, a
// provider that does not answer, usage errors), and the wizard driven through a real terminal
// (script(1)): a bad answer is asked again with the reason, a key is never echoed, a rerun of
// Enter presses is "already in force", Ctrl-C changes nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gatewayPid, newHome, waitFor, WARDEN, wardenAsync, type Home, type Result } from './helpers.js';
import { startMockProvider, type MockProvider } from '../inference/mock-provider.js';

const KEY = 'sk-onboard-canary-5f1e2d3c4b';
const WRONG_KEY = 'sk-wrong-canary-9a8b7c6d';

interface ProviderRow { name: string; type: string; credentials: string[]; endpoint: string | null; updated_at: string }
interface Routes { routes: { openai?: { provider: string; model: string } } }
interface Profile { provider: string; type: string; model: string; tier: string; presets: string[] }

/** The model key variables warden reads, empty (as if unset) unless a test sets one: a developer's own keys stay out. */
const NO_KEYS = Object.fromEntries(['NVIDIA_API_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'VLLM_API_KEY', 'API_KEY'].map((name) => [name, '']));

/** warden with this home and extra environment (a key in a variable, as a user exports it). */
function run(home: Home, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return wardenAsync(args, { env: { ...NO_KEYS, WARDEN_HOME: home.dir, ...env }, timeoutMs: 60_000 }).done;
}

const profileOf = (home: Home) => JSON.parse(readFileSync(path.join(home.dir, 'onboard.json'), 'utf8')) as Profile;
const providers = (home: Home) => home.json<ProviderRow[]>(['provider', 'list']);
const routes = (home: Home) => home.json<Routes>(['inference', 'get']);

function assertNoKey(result: Result, ...keys: string[]): void {
  for (const key of keys) assert.ok(!result.stdout.includes(key) && !result.stderr.includes(key), `a key was printed:\n${result.stdout}\n${result.stderr}`);
}

describe('warden onboard --non-interactive', () => {
  let model: MockProvider;
  let home: Home;
  before(async () => {
    model = await startMockProvider({ key: KEY, models: ['mock-model', 'mock-large'] });
    home = newHome();
  });
  after(async () => {
    await home.cleanup();
    await model.close();
  });

  const onboard = (extra: string[], env: NodeJS.ProcessEnv = { MODEL_KEY: KEY }) =>
    run(home, ['onboard', '--non-interactive', '--provider', 'openai-compatible', '--name', 'local', ...extra], env);

  test('writes one provider, the route and the profile once the provider answers with the key', async () => {
    const result = await onboard(['--endpoint', model.url, '--credential', 'MODEL_KEY', '--model', 'mock-model', '--preset', 'slack']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /provider local \(openai-compatible\): created; it answers at http:\/\/127\.0\.0\.1:\d+\/v1 \(2 models listed\)/);
    assert.match(result.stdout, /inference\.local \(openai\) -> local, model mock-model: set/);
    assert.match(result.stdout, /policy tier balanced \(npm, pypi, github\), extra presets: slack: saved in /);
    assertNoKey(result, KEY);
    // This run started the gateway, which outlives it: the key must not be in its environment.
    assert.ok(!readFileSync(`/proc/${gatewayPid(home)}/environ`, 'utf8').includes(KEY), 'the gateway inherited the key');
    const models = model.seen.filter((r) => r.path === '/v1/models');
    assert.equal(models.at(-1)?.headers.authorization, `Bearer ${KEY}`, 'the provider was asked with the key');

    assert.deepEqual((await providers(home)).map((p) => [p.name, p.type, p.credentials, p.endpoint]), [['local', 'openai-compatible', ['MODEL_KEY'], model.url]]);
    assert.deepEqual((await routes(home)).routes.openai, { provider: 'local', model: 'mock-model', endpoint: model.url });
    const file = path.join(home.dir, 'onboard.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!readFileSync(file, 'utf8').includes(KEY), 'no key in the profile');
    assert.deepEqual(profileOf(home), { ...profileOf(home), provider: 'local', type: 'openai-compatible', model: 'mock-model', tier: 'balanced', presets: ['slack'] });
  });

  test('an identical rerun is success, already in force, and writes nothing', async () => {
    const before = await providers(home);
    const profile = readFileSync(path.join(home.dir, 'onboard.json'), 'utf8');
    const result = await onboard(['--endpoint', model.url, '--credential', 'MODEL_KEY', '--model', 'mock-model', '--preset', 'slack', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const reply = (JSON.parse(result.stdout) as { result: unknown }).result as { changed: boolean; provider: { status: string }; route: { status: string }; profile: { status: string; presets_in_force: string[] } };
    assert.equal(reply.changed, false);
    assert.deepEqual([reply.provider.status, reply.route.status, reply.profile.status], ['unchanged', 'unchanged', 'unchanged']);
    assert.deepEqual(reply.profile.presets_in_force, ['npm', 'pypi', 'github', 'slack']);
    assert.deepEqual(await providers(home), before, 'the provider was not rewritten');
    assert.equal(readFileSync(path.join(home.dir, 'onboard.json'), 'utf8'), profile);
    const human = await onboard(['--model', 'mock-model'], {});
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /already in force: nothing was changed/, 'answers left out keep what exists');
  });

  test('a rerun changes only what it is asked to', async () => {
    const result = await onboard(['--tier', 'restricted'], {});
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /provider local \(openai-compatible\): already in force/);
    assert.match(result.stdout, /model mock-model: already in force/);
    assert.deepEqual(profileOf(home), { ...profileOf(home), tier: 'restricted', presets: ['slack'], model: 'mock-model' });
    const other = await onboard(['--model', 'mock-large', '--preset', 'none'], {});
    assert.equal(other.status, 0, other.stderr);
    assert.match(other.stdout, /model mock-large: set/);
    assert.deepEqual(profileOf(home), { ...profileOf(home), tier: 'restricted', presets: [], model: 'mock-large' });
  });

  test('a wrong key: the provider refuses, exit 1, and nothing is changed (the stored key still works)', async () => {
    const before = { providers: await providers(home), routes: await routes(home), profile: profileOf(home) };
    const result = await onboard(['--credential', 'MODEL_KEY', '--model', 'mock-model', '--tier', 'permissive'], { MODEL_KEY: WRONG_KEY });
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, /provider local did not answer http:\/\/127\.0\.0\.1:\d+\/v1\/models: HTTP 401 \(is the key right\?\)\. Nothing was changed/);
    assertNoKey(result, WRONG_KEY, KEY);
    assert.deepEqual({ providers: await providers(home), routes: await routes(home), profile: profileOf(home) }, before);
    const again = await onboard(['--json'], {});
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { result: { changed: boolean } }).result.changed, false);
  });

  test('bad flags are usage errors (exit 2) that change nothing', async () => {
    const gh = await run(home, ['provider', 'create', 'gh', '--type', 'github', '--credential', 'GH_T'], { GH_T: 'gh-value-not-a-model-key' });
    assert.equal(gh.status, 0, gh.stderr);
    const before = { providers: await providers(home), profile: profileOf(home) };
    const cases: Array<[string[], RegExp]> = [
      [['--credential', `MODEL_KEY=${KEY}`, '--model', 'm'], /give the variable's name only; a value on the command line is visible to every user in ps/],
      [['--credential', 'MODEL_KEY', '--model', 'm'], /\$MODEL_KEY is not set here/],
      [['--credential', 'OTHER_KEY', '--model', 'm'], /provider local keeps its key in MODEL_KEY: give --credential MODEL_KEY/],
      [['--tier', 'wide-open'], /"wide-open" is not a policy tier; one of: restricted, balanced, permissive/],
      [['--preset', 'npm', '--preset', 'nosuch'], /no preset named nosuch; shipped presets: .*npm/],
      [['--endpoint', 'ftp://127.0.0.1/v1'], /http:\/\/ or https:\/\//],
      [['--model', 'two words'], /no spaces or control characters/],
      [['--name', 'gh'], /a provider named gh exists with type github; choose another name/],
    ];
    for (const [args, message] of cases) {
      const result = await onboard(args, {});
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /warden onboard --help/);
    }
    const noProvider = await run(home, ['onboard', '--non-interactive', '--model', 'm']);
    assert.equal(noProvider.status, 2);
    assert.match(noProvider.stderr, /--non-interactive needs --provider TYPE \(nvidia, openai, anthropic, ollama, vllm, openai-compatible\)/);
    const notModels = await run(home, ['onboard', '--non-interactive', '--provider', 'github', '--model', 'm']);
    assert.equal(notModels.status, 2);
    assert.match(notModels.stderr, /"github" is not a model provider type/);
    const json = await onboard(['--tier', 'nope', '--json'], {});
    assert.equal(json.status, 2);
    assert.equal((JSON.parse(json.stdout) as { ok: boolean; error: { code: string } }).error.code, 'usage');
    assert.deepEqual({ providers: await providers(home), profile: profileOf(home) }, before);
  });

  test('without a terminal and without --non-interactive: a usage error naming the flag', async () => {
    const result = await run(home, ['onboard']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /stdin is not a terminal, so the wizard cannot ask: pass --non-interactive with --provider TYPE --model MODEL/);
  });
});

describe('warden onboard: local server types, and a provider that does not answer', () => {
  let model: MockProvider;
  let home: Home;
  before(async () => {
    model = await startMockProvider({ models: ['llama3.2'] });
    home = newHome();
  });
  after(async () => {
    await home.cleanup();
    await model.close();
  });

  test('a provider that does not answer: a clear error, exit 1, and nothing at all is written', async () => {
    // A port that was just listening and is now closed: connection refused.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await run(home, ['onboard', '--non-interactive', '--provider', 'vllm', '--endpoint', `http://127.0.0.1:${port}/v1`, '--model', 'm']);
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`provider vllm did not answer http://127\\.0\\.0\\.1:${port}/v1/models: connect ECONNREFUSED .*Nothing was changed`));
    assert.deepEqual(await providers(home), []);
    assert.deepEqual((await routes(home)).routes, {});
    assert.ok(!existsSync(path.join(home.dir, 'onboard.json')));
  });

  test('ollama and vllm pointed at a local server; the second takes the route over, the first stays', async () => {
    const ollama = await run(home, ['onboard', '--non-interactive', '--provider', 'ollama', '--endpoint', model.url, '--model', 'llama3.2', '--tier', 'restricted']);
    assert.equal(ollama.status, 0, ollama.stderr);
    assert.match(ollama.stdout, /provider ollama \(ollama\): created/);
    const vllm = await run(home, ['onboard', '--non-interactive', '--provider', 'vllm', '--endpoint', model.url, '--model', 'llama3.2']);
    assert.equal(vllm.status, 0, vllm.stderr);
    assert.match(vllm.stdout, /inference\.local \(openai\) -> vllm, model llama3\.2: set/);
    assert.deepEqual((await providers(home)).map((p) => [p.name, p.type, p.credentials]), [['ollama', 'ollama', []], ['vllm', 'vllm', []]]);
    assert.deepEqual(profileOf(home), { ...profileOf(home), provider: 'vllm', type: 'vllm', tier: 'restricted' }, 'the tier chosen before is kept');
    const unlisted = await run(home, ['onboard', '--non-interactive', '--provider', 'vllm', '--model', 'not-pulled']);
    assert.equal(unlisted.status, 0, unlisted.stderr);
    assert.match(unlisted.stderr, /warning: vllm does not list the model not-pulled/);
  });
});

/**
 * warden in a real terminal: script(1) gives it a pty and passes what is written to its stdin on
 * as typed keys. expect() waits for text printed after the last match.
 */
class Terminal {
  /** Every terminal started, so that a failed test leaves none behind. */
  static readonly started: Terminal[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private mark = 0;
  readonly done: Promise<number | null>;

  constructor(home: Home, args: string[], env: NodeJS.ProcessEnv = {}) {
    const command = [process.execPath, WARDEN, ...args].map((a) => `'${a}'`).join(' ');
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...NO_KEYS, WARDEN_HOME: home.dir, ...env } });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => { this.output += d; });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => { this.output += d; });
    this.done = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    Terminal.started.push(this);
  }

  static killAll(): void {
    for (const terminal of Terminal.started) if (terminal.child.exitCode === null) terminal.child.kill('SIGKILL');
  }

  get transcript(): string {
    return this.output;
  }

  async expect(text: string): Promise<void> {
    await waitFor(() => this.output.indexOf(text, this.mark) >= 0, () => `${JSON.stringify(text)} in the terminal; after the last match:\n${this.output.slice(this.mark)}`);
    this.mark = this.output.indexOf(text, this.mark) + text.length;
  }

  /** Waits for `prompt`, then types `answer` and Enter. */
  async answer(prompt: string, answer: string): Promise<void> {
    await this.expect(prompt);
    this.child.stdin.write(`${answer}\r`);
  }

  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  async finish(): Promise<number | null> {
    const code = await this.done;
    this.child.stdin.end();
    return code;
  }
}

describe('warden onboard, the wizard at a terminal', () => {
  let model: MockProvider;
  let home: Home;
  before(async () => {
    model = await startMockProvider({ key: KEY, models: ['mock-model', 'mock-large'] });
    home = newHome();
  });
  after(async () => {
    Terminal.killAll();
    await home.cleanup();
    await model.close();
  });

  test('asks again after a bad answer, hides the key, checks the provider, and saves what was chosen', async () => {
    const t = new Terminal(home, ['onboard']);
    await t.expect('Nothing is set up yet in');
    await t.answer('Provider type [nvidia]: ', 'llama');
    await t.expect('"llama" is not a model provider type; one of: nvidia, openai, anthropic, ollama, vllm, openai-compatible');
    await t.answer('Provider type [nvidia]: ', '6');
    await t.answer('Provider name [openai-compatible]: ', 'Bad Name');
    await t.expect('invalid provider name "Bad Name"');
    await t.answer('Provider name [openai-compatible]: ', 'local');
    await t.answer('Endpoint (base URL): ', 'not a url');
    await t.expect('"not a url" is not a URL');
    await t.answer('Endpoint (base URL): ', model.url);
    await t.answer('API_KEY (typing is not shown; Enter for none): ', WRONG_KEY);
    await t.expect('HTTP 401 (is the key right?)');
    await t.answer('Change the answers and try again? (Y/n): ', '');
    await t.answer(`Endpoint (base URL) [${model.url}]: `, '');
    await t.answer('API_KEY (typing is not shown; Enter keeps the one typed before): ', KEY);
    await t.expect('It answers, and lists 2 models:');
    await t.answer('Model (a number or a name): ', '1');
    await t.answer('Policy tier [balanced]: ', 'wide-open');
    await t.expect('"wide-open" is not a policy tier');
    await t.answer('Policy tier [balanced]: ', 'restricted');
    await t.answer('Extra presets (comma-separated, or none) [none]: ', 'npm, nosuch');
    await t.expect('no preset named nosuch');
    await t.answer('Extra presets (comma-separated, or none) [none]: ', 'slack,npm');
    await t.expect('About to:');
    await t.answer('Apply? (Y/n): ', '');
    assert.equal(await t.finish(), 0, t.transcript);
    assert.match(t.transcript, /provider local \(openai-compatible\): created/);
    assert.ok(!t.transcript.includes(KEY) && !t.transcript.includes(WRONG_KEY), `a key was echoed:\n${t.transcript}`);
    assert.deepEqual((await providers(home)).map((p) => [p.name, p.credentials, p.endpoint]), [['local', ['API_KEY'], model.url]]);
    assert.deepEqual((await routes(home)).routes.openai, { provider: 'local', model: 'mock-large', endpoint: model.url });
    assert.deepEqual(profileOf(home), { ...profileOf(home), provider: 'local', model: 'mock-large', tier: 'restricted', presets: ['npm', 'slack'] });
  });

  test('a rerun shows what exists; Enter keeps every answer: already in force, no question to apply', async () => {
    const t = new Terminal(home, ['onboard']);
    await t.expect('provider local (openai-compatible), key in API_KEY');
    await t.expect('inference.local (openai) -> local, model mock-large');
    await t.answer('Provider type [openai-compatible]: ', '');
    await t.answer('Provider name [local]: ', '');
    await t.answer(`Endpoint (base URL) [${model.url}]: `, '');
    await t.answer('API_KEY (typing is not shown; Enter keeps the stored key): ', '');
    await t.answer('Model (a number or a name) [mock-large]: ', '');
    await t.answer('Policy tier [restricted]: ', '');
    await t.answer('Extra presets (comma-separated, or none) [npm,slack]: ', '');
    assert.equal(await t.finish(), 0, t.transcript);
    assert.match(t.transcript, /already in force: nothing was changed/);
    assert.ok(!t.transcript.includes('Apply?'));
  });

  test('a hosted type: no endpoint question (a flag may give one), the key offered from its variable, the route moved', async () => {
    const t = new Terminal(home, ['onboard', '--endpoint', model.url], { NVIDIA_API_KEY: KEY });
    await t.answer('Provider type [openai-compatible]: ', 'nvidia');
    await t.answer('Provider name [nvidia]: ', '');
    await t.answer('Use the key in $NVIDIA_API_KEY? (Y/n): ', '');
    await t.expect('It answers, and lists 2 models:');
    await t.answer('Model (a number or a name): ', 'mock-model');
    await t.answer('Policy tier [restricted]: ', '');
    await t.answer('Extra presets (comma-separated, or none) [npm,slack]: ', '');
    await t.expect('provider nvidia (nvidia): create, key in NVIDIA_API_KEY');
    await t.answer('Apply? (Y/n): ', 'y');
    assert.equal(await t.finish(), 0, t.transcript);
    assert.ok(!t.transcript.includes('Endpoint (base URL)'));
    assert.ok(!t.transcript.includes(KEY), `a key was shown:\n${t.transcript}`);
    assert.deepEqual((await providers(home)).map((p) => [p.name, p.type, p.credentials]), [['local', 'openai-compatible', ['API_KEY']], ['nvidia', 'nvidia', ['NVIDIA_API_KEY']]]);
    assert.deepEqual((await routes(home)).routes.openai, { provider: 'nvidia', model: 'mock-model', endpoint: model.url });
    assert.deepEqual(profileOf(home), { ...profileOf(home), provider: 'nvidia', type: 'nvidia', tier: 'restricted', presets: ['npm', 'slack'] });
  });

  test('declining the plan changes nothing: exit 1', async () => {
    const before = { providers: await providers(home), routes: await routes(home), profile: profileOf(home) };
    const t = new Terminal(home, ['onboard']);
    await t.answer('Provider type [nvidia]: ', '');
    await t.answer('Provider name [nvidia]: ', '');
    await t.answer('NVIDIA_API_KEY (typing is not shown; Enter keeps the stored key): ', '');
    await t.answer('Model (a number or a name) [mock-model]: ', '');
    await t.answer('Policy tier [restricted]: ', 'permissive');
    await t.answer('Extra presets (comma-separated, or none) [npm,slack]: ', '');
    await t.expect('policy tier permissive (npm, pypi, github, crates, go, rubygems, docker-hub, huggingface, github-write), extra presets: npm, slack');
    await t.answer('Apply? (Y/n): ', 'n');
    assert.equal(await t.finish(), 1, t.transcript);
    assert.match(t.transcript, /nothing was changed/);
    assert.deepEqual({ providers: await providers(home), routes: await routes(home), profile: profileOf(home) }, before);
  });

  test('Ctrl-C stops it: exit 130, and nothing is changed', async () => {
    const before = { providers: await providers(home), routes: await routes(home), profile: profileOf(home) };
    const t = new Terminal(home, ['onboard']);
    await t.answer('Provider type [nvidia]: ', 'openai-compatible');
    await t.answer('Provider name [openai-compatible]: ', 'other');
    await t.answer('Endpoint (base URL): ', model.url);
    await t.expect('API_KEY (typing is not shown');
    t.type('\x03');
    assert.equal(await t.finish(), 130, t.transcript);
    assert.match(t.transcript, /onboarding cancelled; nothing was changed/);
    assert.deepEqual({ providers: await providers(home), routes: await routes(home), profile: profileOf(home) }, before);
  });
});
