// Small things a new user notices (issue 11): usage errors, preset show, policy validate -, docs that match, completion.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { jsonResult, REPO_ROOT, warden } from '../e2e/helpers.js';

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
  const json = jsonResult<{ network_policies: object }>(warden(['preset', 'show', 'pypi', '--json']));
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

test("docs/policy.md's top-level skeleton validates as written", () => {
  const page = readFileSync(path.join(REPO_ROOT, 'docs', 'policy.md'), 'utf8');
  const skeleton = /## Top level\n\n```yaml\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(skeleton, 'the skeleton is found');
  const r = warden(['policy', 'validate', '-'], { input: skeleton });
  assert.equal(r.status, 0, r.stderr);
});

test('docs/network.md: allowed_ips: [127.0.0.0/8] is refused when the policy is loaded, as the page says', () => {
  const page = readFileSync(path.join(REPO_ROOT, 'docs', 'network.md'), 'utf8');
  assert.match(page, /allowed_ips: \[127\.0\.0\.0\/8\]` is refused\s+when it is loaded/);
  const r = warden(['policy', 'validate', '-'], {
    input: 'version: 1\nnetwork_policies:\n  l:\n    endpoints:\n      - { host: localhost, port: 11434, allowed_ips: [127.0.0.0/8] }\n    binaries:\n      - { path: /usr/bin/curl }\n',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /loopback can be allowed only as one exact address \(such as 127\.0\.0\.1\), not as a block/);
});

test('warden completion bash completes commands, subcommands and options', { skip: spawnSync('bash', ['-c', 'true']).status === 0 ? false : 'needs bash' }, () => {
  const script = warden(['completion', 'bash']);
  assert.equal(script.status, 0, script.stderr);
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const probe = `${script.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _warden_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return spawnSync('bash', ['-c', probe], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
  };
  assert.ok(complete('warden sa').includes('sandbox'));
  assert.deepEqual(complete('warden sandbox c'), ['create']);
  assert.ok(complete('warden sandbox delete dev --p').includes('--purge'));
  assert.ok(complete('warden exec --no').includes('--no-denials'));
  assert.equal(warden(['completion', 'fish']).status, 2);
  assert.equal(warden(['completion', 'zsh']).status, 0);
});

test("every command's --help ends with an example", () => {
  const leaves: string[][] = [];
  const walk = (names: string[]): void => {
    const help = warden([...names, '--help']).stdout;
    const commands = help.split('\nCommands:\n')[1]?.split('\n\n')[0];
    const subs = commands === undefined ? [] : commands.split('\n').map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && n !== 'help');
    if (subs.length === 0) leaves.push(names);
    for (const sub of subs) walk([...names, sub]);
  };
  for (const top of ['run', 'sandbox', 'policy', 'preset', 'gateway', 'exec', 'connect', 'logs', 'audit', 'doctor', 'completion', 'provider', 'inference', 'approvals', 'term', 'scan', 'onboard']) walk([top]);
  assert.ok(leaves.length > 20, leaves.join(', '));
  for (const names of leaves) assert.match(warden([...names, '--help']).stdout, /\nExamples?:\n {2}.*warden /, `warden ${names.join(' ')} --help`);
});
