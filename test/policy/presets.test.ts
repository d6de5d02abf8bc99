import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe as suite, test } from 'node:test';
import { stringify } from 'yaml';
import { BinaryLedger, CompiledPolicy, checkInspectedRequest } from '../../src/policy/index.js';
import type { PolicyVerdict as Verdict, ProcessIdentity } from '../../src/policy/index.js';
import { defaultPolicy } from '../../src/policy/index.js';
import { PolicyError, PolicyMergeError, PresetError, defaultPresetDir, listPresets, loadPolicyFile, loadPreset, mergePolicies, parsePolicy } from '../../src/policy/loader.js';
import type { NetworkPolicy, Policy } from '../../src/policy/index.js';
import { repoRoot, yaml } from './helpers.js';

const presetDir = path.join(repoRoot, 'presets');
const REQUIRED = ['npm', 'pypi', 'github', 'huggingface', 'slack', 'telegram', 'discord'];

/** Preset names as the files on disk say, found without the code under test. */
function presetFilesOnDisk(): string[] {
  return readdirSync(presetDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function allShipped(): Array<{ name: string; policy: Policy }> {
  return presetFilesOnDisk().map((name) => ({ name, policy: loadPreset(name) }));
}

function rulesOf(policy: Policy): Array<[string, NetworkPolicy]> {
  return Object.entries(policy.network_policies);
}

suite('shipped presets', () => {
  test('the default preset directory is presets/ at the package root', () => {
    assert.equal(defaultPresetDir(), presetDir);
  });

  test('the list is sorted, complete and includes the required presets', () => {
    const names = listPresets().map((p) => p.name);
    assert.deepEqual(names, presetFilesOnDisk());
    assert.deepEqual(names, [...names].sort());
    for (const required of REQUIRED) assert.ok(names.includes(required), `preset ${required} should ship`);
  });

  test('each list entry describes its file', () => {
    for (const info of listPresets()) {
      const policy = loadPolicyFile(info.file);
      assert.equal(info.file, path.join(presetDir, `${info.name}.yaml`));
      assert.equal(policy.preset?.name, info.name);
      assert.equal(info.description, policy.preset?.description);
      assert.ok(info.description.length > 10, `${info.name} needs a description`);
      assert.deepEqual(info.policies, Object.keys(policy.network_policies));
      const endpoints = rulesOf(policy).reduce((n, [, rule]) => n + rule.endpoints.length, 0);
      assert.equal(info.endpoints, endpoints);
      assert.ok(info.endpoints > 0);
    }
  });

  test('every preset loads as a preset, and every rule has endpoints and binaries', () => {
    for (const { name, policy } of allShipped()) {
      assert.equal(policy.preset?.name, name);
      assert.ok(rulesOf(policy).length > 0, `${name} has no network policies`);
      for (const [key, rule] of rulesOf(policy)) {
        assert.ok(rule.endpoints.length > 0, `${name}.${key} has no endpoint`);
        assert.ok(rule.binaries.length > 0, `${name}.${key} has no binary`);
      }
    }
  });

  test('every endpoint is inspected and enforced, on port 443', () => {
    for (const { name, policy } of allShipped()) {
      for (const [key, rule] of rulesOf(policy)) {
        for (const e of rule.endpoints) {
          const where = `${name}.${key} ${e.host}`;
          assert.ok(e.protocol === 'rest' || e.protocol === 'websocket', `${where}: protocol ${String(e.protocol)}`);
          assert.notEqual(e.tls, 'skip', where);
          assert.notEqual(e.enforcement, 'audit', where);
          assert.ok(e.access !== undefined || (e.rules?.length ?? 0) > 0, `${where} allows no request`);
          assert.notEqual(e.access, 'full', `${where}: access full`);
          assert.deepEqual(e.ports, [443], where);
          assert.equal(e.allowed_ips, undefined, `${where}: presets never open private addresses`);
        }
      }
    }
  });

  // A binary entry is trusted because the sandbox cannot write there: /usr is bound
  // read-only. A path in a writable place would let any program copied there pass.
  test('binaries are programs in system directories, never a shell or a downloader', () => {
    const writable = ['/tmp/', '/sandbox/', '/home/', '/root/', '/var/tmp/', '/dev/shm/', '/run/'];
    const general = new Set(['bash', 'sh', 'dash', 'zsh', 'fish', 'busybox', 'env', 'curl', 'wget', 'nc', 'ncat', 'socat', 'ssh']);
    for (const { name, policy } of allShipped()) {
      for (const [key, rule] of rulesOf(policy)) {
        for (const { path: p } of rule.binaries) {
          const where = `${name}.${key} ${p}`;
          assert.match(p, /^\/(usr|opt)\//, where);
          assert.ok(!p.startsWith('/**') && !p.includes('..'), where);
          assert.ok(!writable.some((w) => p.startsWith(w)), where);
          assert.ok(!general.has(path.posix.basename(p)), `${where} is a general-purpose program`);
        }
      }
    }
  });

  test('package registry presets only read', () => {
    const readers: Array<[string, string]> = [
      ['npm', 'npm'],
      ['pypi', 'pypi'],
      ['crates', 'crates'],
      ['rubygems', 'rubygems'],
      ['go', 'go_modules'],
      ['docker-hub', 'docker_hub'],
    ];
    for (const [preset, key] of readers) {
      const rule = loadPreset(preset).network_policies[key];
      assert.ok(rule, `${preset}.${key}`);
      for (const e of rule.endpoints) {
        if (e.access !== undefined) assert.equal(e.access, 'read-only', `${preset} ${e.host}`);
        for (const r of e.rules ?? []) assert.ok(['GET', 'HEAD'].includes(r.allow.method ?? ''), `${preset} ${e.host} allows ${r.allow.method}`);
      }
    }
  });

  test('no two shipped presets use the same network policy key, so all of them merge together', () => {
    let merged = defaultPolicy();
    const keys: string[] = [];
    for (const { policy } of allShipped()) {
      keys.push(...Object.keys(policy.network_policies));
      merged = mergePolicies(merged, policy);
    }
    assert.equal(new Set(keys).size, keys.length);
    assert.deepEqual(Object.keys(merged.network_policies).sort(), [...keys].sort());
  });
});

// ---------------------------------------------------------------------------------------------
// What the presets let through, decided by the egress proxy's own engine.

function who(exe: string, ancestors: string[] = []): ProcessIdentity {
  return { pid: 100, exe, exeSha256: 'a'.repeat(64), ancestors: ancestors.map((a, i) => ({ pid: 99 - i, exe: a, exeSha256: `${i}`.repeat(64) })) };
}

interface Probe {
  exe: string;
  url: string;
  method?: string;
  ancestors?: string[];
  upgrade?: string;
}

function decide(policy: Policy, probe: Probe): Verdict {
  const url = new URL(probe.url);
  const compiled = new CompiledPolicy(policy.network_policies);
  const port = url.port === '' ? 443 : Number(url.port);
  const conn = compiled.decideConnection(url.hostname, port, who(probe.exe, probe.ancestors), new BinaryLedger());
  if (conn.verdict === 'deny') return conn;
  return checkInspectedRequest(conn, { method: probe.method ?? 'GET', pathAndQuery: url.pathname + url.search, upgrade: probe.upgrade });
}

function assertAllowed(policy: Policy, probe: Probe): void {
  const v = decide(policy, probe);
  assert.equal(v.verdict, 'allow', `${probe.exe} ${probe.method ?? 'GET'} ${probe.url}: ${v.code} ${v.reason}`);
}

function assertDenied(policy: Policy, probe: Probe, code?: string): void {
  const v = decide(policy, probe);
  assert.equal(v.verdict, 'deny', `${probe.exe} ${probe.method ?? 'GET'} ${probe.url} should be denied`);
  if (code !== undefined) assert.equal(v.code, code, v.reason);
}

suite('what the presets allow and deny', () => {
  test('npm: node installs packages, scoped ones too, and runs audits; it cannot publish or log in', () => {
    const npm = mergePolicies(defaultPolicy(), loadPreset('npm'));
    assertAllowed(npm, { exe: '/usr/bin/node', url: 'https://registry.npmjs.org/@types%2fnode' });
    assertAllowed(npm, { exe: '/usr/local/bin/node', url: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz' });
    assertAllowed(npm, { exe: '/usr/bin/node', url: 'https://registry.yarnpkg.com/react' });
    assertAllowed(npm, { exe: '/usr/bin/node', method: 'POST', url: 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' });
    assertDenied(npm, { exe: '/usr/bin/node', method: 'PUT', url: 'https://registry.npmjs.org/my-package' }, 'l7_not_allowed');
    assertDenied(npm, { exe: '/usr/bin/node', method: 'PUT', url: 'https://registry.npmjs.org/-/user/org.couchdb.user:me' });
    assertDenied(npm, { exe: '/usr/bin/node', method: 'POST', url: 'https://registry.npmjs.org/-/v1/login' }, 'l7_not_allowed');
    assertDenied(npm, { exe: '/usr/bin/curl', url: 'https://registry.npmjs.org/left-pad' }, 'binary_not_allowed');
    assertDenied(npm, { exe: '/usr/bin/node', url: 'https://example.com/' }, 'no_endpoint');
  });

  test('pypi: the python interpreter (as the kernel names it) downloads, never uploads', () => {
    const pypi = mergePolicies(defaultPolicy(), loadPreset('pypi'));
    assertAllowed(pypi, { exe: '/usr/bin/python3.11', url: 'https://pypi.org/simple/requests/' });
    assertAllowed(pypi, { exe: '/usr/local/bin/python3.12', url: 'https://files.pythonhosted.org/packages/aa/bb/requests-2.32.3-py3-none-any.whl' });
    assertAllowed(pypi, { exe: '/usr/local/bin/uv', url: 'https://pypi.org/simple/numpy/' });
    assertDenied(pypi, { exe: '/usr/bin/python3.11', method: 'POST', url: 'https://upload.pypi.org/legacy/' }, 'no_endpoint');
    assertDenied(pypi, { exe: '/usr/bin/python3.11', method: 'POST', url: 'https://pypi.org/legacy/' }, 'l7_not_allowed');
    assertDenied(pypi, { exe: '/usr/bin/node', url: 'https://pypi.org/simple/requests/' }, 'binary_not_allowed');
  });

  test('github: git clones and fetches, but pushing and API writes need github-write', () => {
    const read = mergePolicies(defaultPolicy(), loadPreset('github'));
    const git = { exe: '/usr/lib/git-core/git-remote-https', ancestors: ['/usr/bin/git'] };
    assertAllowed(read, { ...git, url: 'https://github.com/owner/repo.git/info/refs?service=git-upload-pack' });
    assertAllowed(read, { ...git, method: 'POST', url: 'https://github.com/owner/repo.git/git-upload-pack' });
    assertAllowed(read, { exe: '/usr/bin/gh', url: 'https://api.github.com/repos/owner/repo/pulls' });
    assertAllowed(read, { exe: '/usr/bin/git', url: 'https://raw.githubusercontent.com/owner/repo/main/README.md' });
    const push = { ...git, method: 'POST', url: 'https://github.com/owner/repo.git/git-receive-pack' };
    const createIssue = { exe: '/usr/bin/gh', method: 'POST', url: 'https://api.github.com/repos/owner/repo/issues' };
    assertDenied(read, push, 'l7_not_allowed');
    assertDenied(read, createIssue, 'l7_not_allowed');
    assertDenied(read, { exe: '/usr/bin/python3.11', url: 'https://github.com/owner/repo' }, 'binary_not_allowed');

    // The read preset denies by leaving things out, not with deny rules, so adding the write
    // preset on top really grants the writes.
    const write = mergePolicies(read, loadPreset('github-write'));
    assertAllowed(write, push);
    assertAllowed(write, createIssue);
    assertDenied(write, { exe: '/usr/bin/gh', method: 'DELETE', url: 'https://api.github.com/repos/owner/repo' }, 'l7_not_allowed');
    assertDenied(write, { exe: '/usr/bin/gh', method: 'PUT', url: 'https://api.github.com/repos/owner/repo/pulls/1/merge' }, 'l7_not_allowed');
  });

  test('huggingface: downloads and inference, each for its own programs', () => {
    const hf = mergePolicies(defaultPolicy(), loadPreset('huggingface'));
    const py = '/usr/bin/python3.11';
    assertAllowed(hf, { exe: py, method: 'HEAD', url: 'https://huggingface.co/openai-community/gpt2/resolve/main/config.json' });
    assertAllowed(hf, { exe: py, url: 'https://cas-server.xethub.hf.co/v1/reconstructions/abc' });
    assertAllowed(hf, { exe: py, url: 'https://cdn-lfs-us-1.hf.co/repos/aa/bb/cc' });
    assertAllowed(hf, { exe: py, method: 'POST', url: 'https://router.huggingface.co/v1/chat/completions' });
    assertAllowed(hf, { exe: '/usr/bin/git', method: 'POST', url: 'https://huggingface.co/datasets/org/name/git-upload-pack' });
    assertDenied(hf, { exe: py, method: 'POST', url: 'https://huggingface.co/api/repos/create' }, 'l7_not_allowed');
    assertDenied(hf, { exe: '/usr/bin/git', method: 'POST', url: 'https://huggingface.co/org/model.git/git-receive-pack' }, 'l7_not_allowed');
    assertDenied(hf, { exe: '/usr/bin/git', method: 'POST', url: 'https://router.huggingface.co/v1/chat/completions' }, 'l7_not_allowed');
  });

  test('telegram: only Bot API shaped paths', () => {
    const tg = mergePolicies(defaultPolicy(), loadPreset('telegram'));
    assertAllowed(tg, { exe: '/usr/bin/node', method: 'POST', url: 'https://api.telegram.org/bot123456:ABC-def/sendMessage' });
    assertAllowed(tg, { exe: '/usr/bin/python3.11', url: 'https://api.telegram.org/bot123456:ABC-def/getUpdates?timeout=30' });
    assertAllowed(tg, { exe: '/usr/bin/node', url: 'https://api.telegram.org/file/bot123456:ABC-def/photos/file_1.jpg' });
    assertDenied(tg, { exe: '/usr/bin/node', url: 'https://api.telegram.org/' }, 'l7_not_allowed');
    assertDenied(tg, { exe: '/usr/bin/node', method: 'DELETE', url: 'https://api.telegram.org/bot1:A/deleteWebhook' }, 'l7_not_allowed');
  });

  test('slack and discord: their APIs and their WebSockets', () => {
    const chat = mergePolicies(mergePolicies(defaultPolicy(), loadPreset('slack')), loadPreset('discord'));
    const node = '/usr/bin/node';
    assertAllowed(chat, { exe: node, method: 'POST', url: 'https://slack.com/api/chat.postMessage' });
    assertAllowed(chat, { exe: node, method: 'POST', url: 'https://hooks.slack.com/services/T000/B000/XXXX' });
    assertAllowed(chat, { exe: node, url: 'https://wss-primary.slack.com/link/?ticket=abc', upgrade: 'websocket' });
    assertDenied(chat, { exe: node, method: 'POST', url: 'https://slack.com/oauth/v2/authorize' }, 'l7_not_allowed');
    assertAllowed(chat, { exe: node, method: 'POST', url: 'https://discord.com/api/v10/channels/1/messages' });
    assertAllowed(chat, { exe: node, url: 'https://gateway.discord.gg/?v=10&encoding=json', upgrade: 'websocket' });
    assertAllowed(chat, { exe: node, url: 'https://gateway-us-east1-b.discord.gg/?v=10', upgrade: 'websocket' });
    assertAllowed(chat, { exe: node, url: 'https://cdn.discordapp.com/attachments/1/2/a.png' });
    assertDenied(chat, { exe: node, method: 'POST', url: 'https://cdn.discordapp.com/attachments/1' }, 'l7_not_allowed');
    assertDenied(chat, { exe: node, url: 'https://discord.gg/invite' }, 'no_endpoint');
    assertDenied(chat, { exe: '/usr/bin/curl', method: 'POST', url: 'https://hooks.slack.com/services/T000/B000/XXXX' }, 'binary_not_allowed');
  });

  test('model APIs: the versioned API only, for the SDK runtimes and the agent CLIs', () => {
    const models = mergePolicies(mergePolicies(defaultPolicy(), loadPreset('openai')), loadPreset('anthropic'));
    assertAllowed(models, { exe: '/usr/bin/node', method: 'POST', url: 'https://api.anthropic.com/v1/messages' });
    assertAllowed(models, { exe: '/usr/local/lib/node_modules/@anthropic-ai/claude-code/bin/claude', method: 'POST', url: 'https://api.anthropic.com/v1/messages' });
    assertAllowed(models, { exe: '/usr/bin/python3.11', method: 'POST', url: 'https://api.openai.com/v1/responses' });
    assertDenied(models, { exe: '/usr/bin/node', method: 'POST', url: 'https://api.anthropic.com/api/oauth/token' }, 'l7_not_allowed');
    assertDenied(models, { exe: '/usr/bin/node', method: 'DELETE', url: 'https://api.openai.com/v1/files/file-1' }, 'l7_not_allowed');
    assertDenied(models, { exe: '/usr/bin/curl', method: 'POST', url: 'https://api.openai.com/v1/responses' }, 'binary_not_allowed');
  });

  test('go: module zips from the proxy bucket only, not the rest of Cloud Storage', () => {
    const go = mergePolicies(defaultPolicy(), loadPreset('go'));
    const exe = '/usr/lib/go-1.19/bin/go';
    assertAllowed(go, { exe, url: 'https://proxy.golang.org/golang.org/x/text/@v/list' });
    assertAllowed(go, { exe, url: 'https://storage.googleapis.com/proxy-golang-org-prod/abc-golang.org:x-v0.1.0.zip?Expires=1&Signature=a%2Fb' });
    assertDenied(go, { exe, url: 'https://storage.googleapis.com/someone-elses-bucket/file' }, 'l7_not_allowed');
  });
});

// ---------------------------------------------------------------------------------------------
// Merging

function rule(host: string, binary = '/usr/bin/node', name?: string): NetworkPolicy {
  return { ...(name ? { name } : {}), endpoints: [{ host, ports: [443], protocol: 'rest', access: 'read-only' }], binaries: [{ path: binary }] };
}

function withRules(rules: Record<string, NetworkPolicy>): Policy {
  return { ...defaultPolicy(), network_policies: rules };
}

suite('mergePolicies', () => {
  test("adds the addition's network policies and keeps everything else of the base", () => {
    const base = withRules({ mine: rule('example.com') });
    base.governance = { trust: { initial: 300 } };
    const merged = mergePolicies(base, loadPreset('npm'));
    assert.deepEqual(Object.keys(merged.network_policies), ['mine', 'npm', 'npm_audit']);
    assert.deepEqual(merged.network_policies.mine, rule('example.com'));
    assert.deepEqual(merged.network_policies.npm, loadPreset('npm').network_policies.npm);
    assert.deepEqual(merged.filesystem_policy, base.filesystem_policy);
    assert.deepEqual(merged.governance, { trust: { initial: 300 } });
    assert.equal(merged.preset, undefined, 'the preset header is not carried into the policy');
  });

  test('takes a plain map of network policies too', () => {
    const merged = mergePolicies(defaultPolicy(), { docs: rule('docs.example.com', '/usr/bin/python3.11') });
    assert.deepEqual(merged.network_policies, { docs: rule('docs.example.com', '/usr/bin/python3.11') });
  });

  test('changes neither argument, and shares no objects with them', () => {
    const base = withRules({ mine: rule('example.com') });
    const preset = loadPreset('pypi');
    const before = structuredClone({ base, preset });
    const merged = mergePolicies(base, preset);
    assert.deepEqual({ base, preset }, before);
    merged.network_policies.pypi!.endpoints[0]!.host = 'evil.example';
    merged.network_policies.mine!.binaries.push({ path: '/usr/bin/curl' });
    merged.filesystem_policy.read_write.push('/etc');
    assert.deepEqual({ base, preset }, before);
  });

  test('merging the same preset twice changes nothing', () => {
    const once = mergePolicies(defaultPolicy(), loadPreset('github'));
    const twice = mergePolicies(once, loadPreset('github'));
    assert.deepEqual(twice, once);
  });

  test('the same content written in another key order is not a conflict', () => {
    const base = withRules({ web: { binaries: [{ path: '/usr/bin/node' }], endpoints: [{ access: 'read-only', protocol: 'rest', ports: [443], host: 'a.example' }] } });
    const merged = mergePolicies(base, { web: rule('a.example') });
    assert.deepEqual(merged.network_policies, base.network_policies);
  });

  test('a key that exists with different content is an error naming every such key, and nothing is merged', () => {
    const base = withRules({ npm: rule('my-mirror.example'), npm_audit: rule('audit.example'), keep: rule('k.example') });
    const attempt = () => mergePolicies(base, loadPreset('npm'));
    assert.throws(attempt, (error: unknown) => {
      assert.ok(error instanceof PolicyMergeError);
      assert.deepEqual(error.conflicts, ['npm', 'npm_audit']);
      assert.match(error.message, /"npm", "npm_audit"/);
      return true;
    });
    assert.deepEqual(Object.keys(base.network_policies), ['npm', 'npm_audit', 'keep']);
    assert.equal(base.network_policies.npm!.endpoints[0]!.host, 'my-mirror.example');
  });

  test('small differences count: a binary, a label, an endpoint field', () => {
    const original = rule('a.example');
    const variants: NetworkPolicy[] = [
      rule('a.example', '/usr/local/bin/node'),
      rule('a.example', '/usr/bin/node', 'labelled'),
      { ...original, endpoints: [{ ...original.endpoints[0]!, access: 'read-write' }] },
      { ...original, endpoints: [{ ...original.endpoints[0]!, ports: [443, 8443] }] },
      { ...original, binaries: [...original.binaries, { path: '/usr/bin/node' }] },
    ];
    for (const variant of variants) {
      assert.throws(() => mergePolicies(withRules({ a: original }), { a: variant }), PolicyMergeError, JSON.stringify(variant));
    }
  });

  test('with replace, the addition wins for conflicting keys and the other keys stay', () => {
    const base = withRules({ npm: rule('my-mirror.example'), keep: rule('k.example') });
    const merged = mergePolicies(base, loadPreset('npm'), { replace: true });
    assert.deepEqual(merged.network_policies.npm, loadPreset('npm').network_policies.npm);
    assert.deepEqual(merged.network_policies.keep, rule('k.example'));
    assert.ok(merged.network_policies.npm_audit);
    assert.equal(base.network_policies.npm!.endpoints[0]!.host, 'my-mirror.example', 'the base is not modified');
  });

  test('a "__proto__" key is refused rather than changing the prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"endpoints": [], "binaries": []}}') as Record<string, NetworkPolicy>;
    assert.throws(() => mergePolicies(defaultPolicy(), hostile), TypeError);
  });

  test('a merged policy written back to YAML loads again to the same policy', () => {
    const base = parsePolicy(
      yaml(
        'version: 1',
        'filesystem_policy: { include_workdir: true, read_only: [/usr, /etc], read_write: [/tmp] }',
        'process: { run_as_user: sandbox }',
        'network_policies:',
        '  internal:',
        '    endpoints: [{ host: git.corp.example, port: 443, protocol: rest, access: read-only }]',
        '    binaries: [{ path: /usr/bin/git }]',
        'governance:',
        '  breakers: { denials: { max: 5, window: 1m } }',
      ),
      'base.yaml',
    );
    let merged = base;
    for (const name of ['npm', 'pypi', 'github', 'huggingface', 'slack', 'discord', 'go']) merged = mergePolicies(merged, loadPreset(name));
    const text = stringify(merged);
    const reloaded = parsePolicy(text, 'merged.yaml');
    assert.deepEqual(reloaded, merged);
    assert.deepEqual(mergePolicies(reloaded, loadPreset('npm')), merged, 'and merging again is still idempotent');
  });
});

// ---------------------------------------------------------------------------------------------
// Preset directories other than the shipped one, and what goes wrong in them

suite('loading presets from a directory', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function dirWith(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'warden-presets-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  }

  const presetText = (name: string, host = 'a.example') =>
    yaml(
      'preset:',
      `  name: ${name}`,
      `  description: ${name} things`,
      'network_policies:',
      `  ${name.replace(/-/g, '_')}:`,
      `    endpoints: [{ host: ${host}, port: 443, protocol: rest, access: read-only }]`,
      '    binaries: [{ path: /usr/bin/node }]',
    );

  test('lists and loads the presets of the given directory, ignoring other files', () => {
    const dir = dirWith({ 'zeta.yaml': presetText('zeta'), 'alpha-one.yaml': presetText('alpha-one'), 'README.md': '# not a preset', 'beta.yml': presetText('beta') });
    const list = listPresets(dir);
    assert.deepEqual(list, [
      { name: 'alpha-one', description: 'alpha-one things', file: path.join(dir, 'alpha-one.yaml'), policies: ['alpha_one'], endpoints: 1 },
      { name: 'zeta', description: 'zeta things', file: path.join(dir, 'zeta.yaml'), policies: ['zeta'], endpoints: 1 },
    ]);
    assert.equal(loadPreset('zeta', dir).preset?.name, 'zeta');
  });

  test('an unknown preset is an error that lists the available ones', () => {
    const dir = dirWith({ 'one.yaml': presetText('one'), 'two.yaml': presetText('two') });
    assert.throws(() => loadPreset('three', dir), (error: unknown) => {
      assert.ok(error instanceof PresetError);
      assert.equal(error.code, 'unknown_preset');
      assert.match(error.message, /"three".*one, two/);
      return true;
    });
    assert.throws(() => loadPreset('beta', dirWith({ 'beta.yml': presetText('beta') })), { code: 'unknown_preset' });
  });

  test('names that are not plain preset names are refused before touching the file system', () => {
    const dir = dirWith({ 'one.yaml': presetText('one') });
    for (const bad of ['', '../one', 'one/../one', '/etc/passwd', 'One', 'one.yaml', '-one', 'on e']) {
      assert.throws(() => loadPreset(bad, dir), { name: 'PresetError', code: 'bad_preset_name' }, JSON.stringify(bad));
    }
  });

  test('a preset whose name is not its file name is refused, by load and by list', () => {
    const dir = dirWith({ 'one.yaml': presetText('other') });
    assert.throws(() => loadPreset('one', dir), { code: 'name_mismatch' });
    assert.throws(() => listPresets(dir), { code: 'name_mismatch' });
  });

  test('a policy file in the preset directory is not a preset', () => {
    const dir = dirWith({ 'full.yaml': yaml('version: 1', 'network_policies: {}') });
    assert.throws(() => loadPreset('full', dir), { code: 'not_a_preset' });
    assert.throws(() => listPresets(dir), { code: 'not_a_preset' });
  });

  test('a broken preset fails the listing with its location instead of being skipped', () => {
    const dir = dirWith({ 'good.yaml': presetText('good'), 'bad.yaml': presetText('bad', '"*"') });
    assert.throws(() => listPresets(dir), (error: unknown) => {
      assert.ok(error instanceof PolicyError);
      assert.equal(error.diagnostics[0]?.file, path.join(dir, 'bad.yaml'));
      assert.match(error.diagnostics[0]?.path ?? '', /endpoints\[0\]\.host/);
      return true;
    });
    assert.equal(loadPreset('good', dir).preset?.name, 'good');
  });

  test('a missing directory is reported as such', () => {
    assert.throws(() => listPresets(path.join(tmpdir(), 'warden-no-such-preset-dir')), { code: 'ENOENT' });
  });
});
