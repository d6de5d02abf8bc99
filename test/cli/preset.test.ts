import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, SKIP_NO_BWRAP, tempDir, warden } from '../e2e/helpers.js';

const shipped = readdirSync(path.join(REPO_ROOT, 'presets')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();

test('preset list names every shipped preset, as a table and as JSON', () => {
  const table = warden(['preset', 'list']);
  assert.equal(table.status, 0, table.stderr);
  const names = table.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]);
  assert.deepEqual(names, shipped);
  const json = warden(['preset', 'list', '--json']);
  const parsed = (JSON.parse(json.stdout) as { result: Array<{ name: string; endpoints: number }> }).result;
  assert.deepEqual(parsed.map((p) => p.name), shipped);
  assert.ok(parsed.every((p) => p.endpoints > 0));
});

test('run --preset: an unknown preset is a usage error and nothing runs', () => {
  const r = warden(['run', '--preset', 'no-such-preset', '--', 'sh', '-c', 'echo ran']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown preset "no-such-preset"/);
});

test('run --preset: the preset gives the sandbox its proxy', { skip: SKIP_NO_BWRAP }, () => {
  // A WARDEN_HOME of its own: a networked run keeps its event log there (not in ~/.warden).
  const home = tempDir('warden-preset-home-');
  try {
    const env = { WARDEN_HOME: home.dir };
    const withPreset = warden(['run', '--preset', 'pypi', '--', 'sh', '-c', 'echo "$HTTPS_PROXY"'], { env });
    assert.equal(withPreset.stdout, 'http://127.0.0.1:3128\n', withPreset.stderr);
    const without = warden(['run', '--', 'sh', '-c', 'echo "$HTTPS_PROXY"'], { env });
    assert.equal(without.stdout, '\n', 'no network policies: no proxy, no network');
  } finally {
    home.cleanup();
  }
});
