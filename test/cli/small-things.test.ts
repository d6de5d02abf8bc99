// Small things a new user notices (issue 11): usage errors, preset show, policy validate -.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warden } from '../e2e/helpers.js';

test('a usage error is one line and a pointer to --help, not the whole help', () => {
  for (const [args, help] of [[['run'], 'warden run --help'], [['sandbox', 'create'], 'warden sandbox create --help'], [['logs', 'x', '--frob'], 'warden logs --help']] as const) {
    const r = warden([...args]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.equal(lines[1], `(see \`${help}\`)`);
  }
});

test('every subcommand has a one-line summary', () => {
  const top = warden(['--help']).stdout;
  for (const group of ['sandbox', 'policy', 'preset', 'gateway', 'audit']) {
    const help = warden([group, '--help']);
    assert.equal(help.status, 0);
    for (const line of help.stdout.split('\n').filter((l) => /^ {2}[a-z]/.test(l) && !/^ {2}help /.test(l))) {
      assert.match(line, /^ {2}\S.*\S {2,}\S/, `${group}: a summary for ${line.trim()}`);
    }
  }
  assert.ok(top.length > 0);
});

test('preset show NAME prints the shipped preset; an unknown one names the list', () => {
  const shown = warden(['preset', 'show', 'pypi']);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^preset:/m);
  assert.match(shown.stdout, /pypi\.org/);
  const json = JSON.parse(warden(['preset', 'show', 'pypi', '--json']).stdout) as { network_policies: object };
  assert.ok(Object.keys(json.network_policies).length > 0);
  const unknown = warden(['preset', 'show', 'nope']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown preset "nope"; available: .*pypi/);
});

test('policy validate - reads standard input', () => {
  const ok = warden(['policy', 'validate', '-'], { input: 'version: 1\n' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^-: valid policy/);
  const bad = warden(['policy', 'validate', '-'], { input: 'version: 2\n' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^<stdin>:1:\d+: version/m);
});
