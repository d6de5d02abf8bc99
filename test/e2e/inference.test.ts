// inference.local and credential placeholders in a real sandbox: the OpenAI and Anthropic SDKs
// and curl call models with no key inside; a provider's token is swapped in on its host only;
// canary keys appear nowhere the sandbox, the logs, the audit log or the CLI can show.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHttps, upstreamCA } from '../egress/helpers.js';
import { type MockProvider, startMockProvider } from '../inference/mock-provider.js';
import { gatewayPid, type Home, REPO_ROOT, SKIP_NO_BWRAP, tempDir, wardenAsync, warden, type Result } from './helpers.js';

const OPENAI_KEY = 'sk-canaryOpenAI0123456789abcdefghijKLMN';
const ANTHROPIC_KEY = 'sk-ant-canaryAnthropic0123456789abcdefgh';
const SERVICE_TOKEN = 'plain-canary-service-token-0123456789';
const CANARIES = [OPENAI_KEY, ANTHROPIC_KEY, SERVICE_TOKEN];
// The real directory: a symlinked node_modules (a worktree) is not what the sandbox mounts.
const NODE_MODULES = realpathSync(path.join(REPO_ROOT, 'node_modules'));

describe('inference.local and credentials in a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  const scratch = tempDir('warden-e2e-inference-');
  chmodSync(scratch.dir, 0o711);
  const home = path.join(scratch.dir, 'home');
  const caFile = path.join(scratch.dir, 'upstream-ca.pem');
  writeFileSync(caFile, upstreamCA.certPem);
  const env = { WARDEN_HOME: home, NODE_EXTRA_CA_CERTS: caFile, OPENAI_CANARY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY, SERVICE_TOKEN };
  const cli = (args: string[]): Promise<Result> => wardenAsync(args, { env, timeoutMs: 90_000 }).done;
  const outputs: string[] = [];
  const ok = async (args: string[]): Promise<string> => {
    const result = await cli(args);
    outputs.push(result.stdout, result.stderr);
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  let mock: MockProvider;
  let claude: MockProvider;
  let service: Awaited<ReturnType<typeof startHttps>>;
  const seenAuth: string[] = [];

  before(async () => {
    mock = await startMockProvider({ key: OPENAI_KEY });
    claude = await startMockProvider({ key: ANTHROPIC_KEY });
    service = await startHttps(upstreamCA, 'localhost', (req, res) => {
      seenAuth.push(`${req.headers.host} ${req.headers.authorization ?? ''} ${req.url}`);
      res.end('service ok');
    });
    const policy = path.join(scratch.dir, 'policy.yaml');
    writeFileSync(policy, [
      'version: 1',
      'filesystem_policy:',
      '  include_workdir: true',
      `  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc, ${NODE_MODULES}]`,
      '  read_write: [/tmp]',
      'network_policies:',
      '  service:',
      '    endpoints:',
      `      - { host: localhost, port: ${service.port}, protocol: rest, access: full, allowed_ips: [127.0.0.1] }`,
      `      - { host: 127.0.0.1, port: ${service.port}, protocol: rest, access: full, allowed_ips: [127.0.0.1] }`,
      '    binaries: [{ path: /usr/bin/curl }]',
      'inference: { allowed_routes: [local, claude] }',
    ].join('\n') + '\n');
    await ok(['provider', 'create', 'local', '--type', 'openai-compatible', '--endpoint', mock.url, '--credential', 'OPENAI_CANARY']);
    await ok(['provider', 'create', 'claude', '--type', 'anthropic', '--endpoint', claude.url, '--credential', 'ANTHROPIC_API_KEY']);
    await ok(['provider', 'create', 'svc', '--type', 'generic', '--host', 'localhost', '--credential', 'SERVICE_TOKEN']);
    await ok(['inference', 'set', '--provider', 'local', '--model', 'mock-model']);
    await ok(['inference', 'set', '--provider', 'claude', '--model', 'claude-mock']);
    await ok(['sandbox', 'create', 'agent', '--policy', policy, '--provider', 'svc']);
  });
  after(async () => {
    await cli(['gateway', 'stop']);
    await mock.close();
    await claude.close();
    await service.close();
    scratch.cleanup();
  });

  const exec = (script: string) => ok(['exec', 'agent', '--', 'sh', '-c', script]);

  test('curl reaches inference.local through the proxy, with no key inside', async () => {
    const out = await exec(`curl -sS https://inference.local/v1/chat/completions -H 'content-type: application/json' -d '{"messages":[{"role":"user","content":"hi"}]}'`);
    const body = JSON.parse(out) as { model: string; choices: Array<{ message: { content: string } }> };
    assert.equal(body.model, 'mock-model');
    assert.match(body.choices[0]!.message.content, /word0/);
    assert.equal(mock.seen.at(-1)!.headers.authorization, `Bearer ${OPENAI_KEY}`);
  });

  test('the OpenAI SDK and the Anthropic SDK work against inference.local with a dummy key', async () => {
    const openai = await exec(`node -e '
      const OpenAI = require("${NODE_MODULES}/openai").default;
      const client = new OpenAI({ baseURL: "https://inference.local/v1", apiKey: "dummy" });
      (async () => {
        const r = await client.chat.completions.create({ model: "anything", messages: [{ role: "user", content: "hi" }] });
        let streamed = "";
        for await (const chunk of await client.chat.completions.create({ model: "anything", stream: true, messages: [{ role: "user", content: "hi" }] })) streamed += chunk.choices[0]?.delta?.content ?? "";
        console.log(JSON.stringify({ model: r.model, text: r.choices[0].message.content, streamed }));
      })().catch((e) => { console.error(e); process.exit(1); });'`);
    const o = JSON.parse(openai) as { model: string; text: string; streamed: string };
    assert.equal(o.model, 'mock-model');
    assert.equal(o.streamed, o.text);
    const anthropic = await exec(`node -e '
      const Anthropic = require("${NODE_MODULES}/@anthropic-ai/sdk").default;
      const client = new Anthropic({ baseURL: "https://inference.local", apiKey: "dummy" });
      (async () => {
        const r = await client.messages.create({ model: "anything", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
        const s = await client.messages.stream({ model: "anything", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).finalMessage();
        console.log(JSON.stringify({ model: r.model, text: r.content[0].text, streamed: s.content[0].text, usage: s.usage }));
      })().catch((e) => { console.error(e); process.exit(1); });'`);
    const a = JSON.parse(anthropic) as { model: string; text: string; streamed: string; usage: { output_tokens: number } };
    assert.equal(a.model, 'claude-mock');
    assert.equal(a.streamed, a.text);
    assert.equal(a.usage.output_tokens, 5);
  });

  test('warden run serves inference.local too once a route is set, to a policy with an inference section and no network policy', async () => {
    const modelsOnly = path.join(scratch.dir, 'models-only.yaml');
    writeFileSync(modelsOnly, 'version: 1\ninference: {}\n');
    const refused = await ok(['run', '--', 'sh', '-c', 'curl -sS https://inference.local/v1/models || echo no-network']);
    assert.match(refused, /no-network/, 'without an inference section: no model calls, and no network at all');
    const out = await ok(['run', '--policy', modelsOnly, '--', 'curl', '-sS', 'https://inference.local/v1/chat/completions', '-d', '{"messages":[]}']);
    assert.equal((JSON.parse(out) as { model: string }).model, 'mock-model');
    const denied = await ok(['run', '--policy', modelsOnly, '--', 'sh', '-c', `curl -sS -o /dev/null -w "%{http_code}" http://127.0.0.1:${mock.port}/v1/models || true`]);
    assert.equal(denied, '403', 'the provider itself is not reachable from inside');
  });

  test('warden inference set switches the route live, with no restart', async () => {
    await ok(['inference', 'set', '--provider', 'local', '--model', 'switched-model']);
    try {
      const out = await exec(`curl -sS https://inference.local/v1/chat/completions -d '{"messages":[]}'`);
      assert.equal((JSON.parse(out) as { model: string }).model, 'switched-model');
    } finally {
      await ok(['inference', 'set', '--provider', 'local', '--model', 'mock-model']);
    }
  });

  test('inference set checks the provider answers first: a wrong key changes nothing', async () => {
    await ok(['provider', 'create', 'wrongkey', '--type', 'openai-compatible', '--endpoint', mock.url, '--credential', 'SERVICE_TOKEN']);
    const refused = await cli(['inference', 'set', '--provider', 'wrongkey', '--model', 'm']);
    outputs.push(refused.stdout, refused.stderr);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /HTTP 401 \(is the key right\?\)/);
    assert.match(await ok(['inference', 'get']), /provider local, model mock-model/);
  });

  test('the placeholder becomes the token on the provider\'s host only; sent elsewhere it is refused', async () => {
    const placeholder = (await exec('printf %s "$SERVICE_TOKEN"')).trim();
    assert.match(placeholder, /^wph_[0-9a-f]{32}$/);
    const good = await exec(`curl -sS -H "Authorization: Bearer $SERVICE_TOKEN" "https://localhost:${service.port}/api"`);
    assert.equal(good, 'service ok');
    assert.equal(seenAuth.at(-1), `localhost:${service.port} Bearer ${SERVICE_TOKEN} /api`);
    const before = seenAuth.length;
    // In the query a server could echo it back to the sandbox: never swapped there, refused.
    const echoed = await exec(`curl -sS -o /dev/null -w '%{http_code}' "https://localhost:${service.port}/api?t=$SERVICE_TOKEN"`);
    assert.equal(echoed, '403');
    const bad = await exec(`curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SERVICE_TOKEN" "https://127.0.0.1:${service.port}/api"`);
    assert.equal(bad, '403');
    assert.equal(seenAuth.length, before, 'nothing reached the server');
  });

  test('canary keys are nowhere inside: environment, /proc, readable files, command lines', async () => {
    // Each canary is split in two on the command line (which the scan reads from /proc) and joined
    // only in the shell's memory, so the scan cannot find its own arguments.
    const halves = CANARIES.map((c) => `'${c.slice(0, 10)}' '${c.slice(10)}'`).join(' ');
    const scan = (extra: string) => exec(`{ env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n'; ${extra} } > /tmp/seen.txt;` +
      ` set -- ${halves}; while [ $# -gt 0 ]; do c="$1$2"; shift 2;` +
      ' grep -rlsF "$c" /tmp/seen.txt /etc /sandbox /tmp /.warden /run 2>/dev/null | grep -v "^/tmp/planted$"; done; true');
    assert.equal(await scan(''), '');
    // The control: the same scan finds a canary that is there.
    await exec(`printf '%s' '${SERVICE_TOKEN}' > /tmp/planted`);
    assert.match(await scan('cat /tmp/planted;'), /\/tmp\/seen\.txt/);
    await exec('rm -f /tmp/planted /tmp/seen.txt');
  });

  test('canary keys are in no log, event, audit record or CLI output; the files on disk are owner-only', async () => {
    outputs.push(await ok(['provider', 'list', '--json']), await ok(['provider', 'get', 'local', '--json']), await ok(['inference', 'get', '--json']));
    outputs.push(await ok(['audit', 'export']), await ok(['logs', 'agent']));
    const gatewayLog = readFileSync(path.join(home, 'gateway.log'), 'utf8');
    // The gateway was started by a command whose environment held every canary.
    const gatewayEnviron = readFileSync(`/proc/${gatewayPid({ dir: home } as Home)}/environ`, 'latin1');
    assert.match(gatewayEnviron, /WARDEN_HOME=/, 'the control: the environ was read');
    const db = readFileSync(path.join(home, 'warden.db')).toString('latin1');
    const everything = outputs.join('\n') + gatewayLog + db + gatewayEnviron;
    for (const canary of CANARIES) assert.ok(!everything.includes(canary), `canary ${canary.slice(0, 12)}... leaked`);
    // The control: the audit export does record the model calls, and the providers file has the key.
    assert.match(outputs.join('\n'), /inference\.call/);
    const dir = path.join(home, 'providers');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const file of readdirSync(dir)) assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o600);
    assert.ok(readFileSync(path.join(dir, 'local.json'), 'utf8').includes(OPENAI_KEY));
  });

  test('a policy that would carry a provider\'s credential through an uninspected tunnel is refused, at create and on change', async () => {
    const raw = path.join(scratch.dir, 'raw.yaml');
    writeFileSync(raw, ['version: 1', 'network_policies:', '  service:', '    endpoints:',
      `      - { host: localhost, port: ${service.port}, allowed_ips: [127.0.0.1] }`, '    binaries: [{ path: /usr/bin/curl }]'].join('\n') + '\n');
    const created = await cli(['sandbox', 'create', 'rawbox', '--policy', raw, '--provider', 'svc']);
    assert.equal(created.status, 1);
    assert.match(created.stderr, /network_policies\.service: localhost carries credentials for localhost but is not inspected/);
    assert.equal((await cli(['sandbox', 'get', 'rawbox'])).status, 1, 'nothing was created');
    const changed = await cli(['policy', 'set', 'agent', raw]);
    assert.equal(changed.status, 1);
    assert.match(changed.stderr, /not inspected.*Nothing was changed/);
  });

  test('a credential is never taken from the command line', () => {
    const result = warden(['provider', 'create', 'x', '--type', 'github', '--credential', `GITHUB_TOKEN=${SERVICE_TOKEN}`], { env });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /visible to every user in ps/);
    assert.ok(!spawnSync('ls', [path.join(home, 'providers')], { encoding: 'utf8' }).stdout.includes('x.json'));
  });
});
