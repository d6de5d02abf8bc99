// `warden policy validate`: exit codes, the FILE:LINE:COLUMN: PATH: message format, --json,
// and that the published example and preset files are accepted. Nothing here needs a sandbox.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, tempDir, warden, writePolicy } from '../e2e/helpers.js';

const POLICY_EXAMPLE = path.resolve(REPO_ROOT, '..', 'shared', 'POLICY-EXAMPLE.yaml');
// The design's example sits beside the checkout in CI; a clone on its own does not have it.
const SKIP_NO_EXAMPLE = existsSync(POLICY_EXAMPLE) ? false : '../shared/POLICY-EXAMPLE.yaml is not beside this checkout';

const work = tempDir('warden-cli-validate-');
after(() => work.cleanup());

/** 1-based line and column of the `occurrence`-th appearance of `needle` in `text`. */
function positionOf(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i < occurrence; i++) {
    offset = text.indexOf(needle, offset + 1);
    assert.notEqual(offset, -1, `test bug: ${JSON.stringify(needle)} not in the YAML`);
  }
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function lines(output: string): string[] {
  return output.split('\n').filter((l) => l !== '');
}

/** The one stderr line that starts with `prefix`; fails when there is none or several. */
function lineStartingWith(output: string, prefix: string): string {
  const found = lines(output).filter((l) => l.startsWith(prefix));
  assert.equal(found.length, 1, `expected one line starting with ${JSON.stringify(prefix)} in:\n${output}`);
  return found[0]!;
}

function assertNoStackTrace(output: string): void {
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace leaked to the user:\n${output}`);
  assert.doesNotMatch(output, /internal error/i);
}

interface JsonDiagnostic { file: string; line: number; column: number; path: string; message: string }
interface JsonResult { file: string; valid: boolean; kind?: string; network_policies?: number; diagnostics: JsonDiagnostic[]; error?: string }

function parseJsonResults(stdout: string): JsonResult[] {
  const envelope = JSON.parse(stdout) as { ok: boolean; result: unknown; error?: { code: string } };
  const parsed = envelope.result;
  assert.ok(Array.isArray(parsed), 'the result is a JSON array');
  assert.equal(envelope.ok, (parsed as JsonResult[]).every((r) => r.valid), 'ok: every file is valid');
  if (!envelope.ok) assert.equal(envelope.error?.code, 'policy_invalid');
  for (const result of parsed as JsonResult[]) {
    assert.equal(typeof result.file, 'string');
    assert.equal(typeof result.valid, 'boolean');
    assert.ok(Array.isArray(result.diagnostics));
    for (const d of result.diagnostics) {
      assert.deepEqual(Object.keys(d).sort(), ['column', 'file', 'line', 'message', 'path']);
      assert.ok(Number.isInteger(d.line) && Number.isInteger(d.column), 'line and column are integers');
      assert.equal(typeof d.path, 'string');
      assert.ok(d.message.length > 0, 'every diagnostic says what is wrong');
    }
  }
  return parsed as JsonResult[];
}

const VALID_POLICY = `version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /etc]
  read_write: [/tmp]
landlock:
  compatibility: best_effort
network_policies:
  pypi:
    name: python packages
    endpoints:
      - host: pypi.org
        port: 443
    binaries:
      - { path: /usr/bin/pip }
`;

// Two problems, at places the tests locate by searching this text.
const INVALID_POLICY = `version: 1
filesystem_policy:
  read_only:
    - /usr
    - relative/path
network_policies:
  web:
    endpoints:
      - host: example.com
        port: 99999
    binaries:
      - { path: /usr/bin/curl }
`;

describe('warden policy validate: valid files', () => {
  test('a valid policy exits 0 and is named valid on stdout', () => {
    const file = writePolicy(work.dir, VALID_POLICY, 'valid.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(lines(r.stdout), [`${file}: valid policy (1 network policy)`]);
  });

  test('the published POLICY-EXAMPLE.yaml validates, with every network policy counted', { skip: SKIP_NO_EXAMPLE }, () => {
    const expectedCount = Object.keys((parseYaml(readFileSync(POLICY_EXAMPLE, 'utf8')) as { network_policies: object }).network_policies).length;
    assert.ok(expectedCount > 0, 'the example has network policies');
    const r = warden(['policy', 'validate', '--json', POLICY_EXAMPLE]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [result] = parseJsonResults(r.stdout);
    assert.deepEqual(result, { file: POLICY_EXAMPLE, valid: true, kind: 'policy', network_policies: expectedCount, diagnostics: [], warnings: [] });

    const human = warden(['policy', 'validate', POLICY_EXAMPLE]);
    assert.equal(human.status, 0);
    assert.equal(human.stdout.trim(), `${POLICY_EXAMPLE}: valid policy (${expectedCount} network policies)`);
    assert.equal(human.stderr, '', 'every key of the example is enforced: no warning');
  });

  test('a key with no effect in warden is a warning on stderr naming file, line, key and why; the file stays valid', () => {
    const file = writePolicy(work.dir, `version: 1
network_policies:
  api:
    endpoints:
      - host: api.example.com
        port: 443
        credential_signing: sigv4
        signing_service: s3
    binaries: [{ path: /usr/bin/curl }]
inference:
  allowed_routes: [local]
`, 'no-effect.yaml');
      // inference is enforced (the model call stage): no warning for it.
    for (const args of [['policy', 'validate', file], ['policy', 'validate', '--json', file]]) {
      const r = warden(args);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.deepEqual(lines.map((line) => line.replace(/: has no effect.*/, '')), [
        `warden: warning: ${file}:7:9: network_policies.api.endpoints[0].credential_signing`,
        `warden: warning: ${file}:8:9: network_policies.api.endpoints[0].signing_service`,
      ]);
      assert.match(lines[1]!, /has no effect in warden/);
    }
  });

  test('a preset file validates as kind "preset"', () => {
    const file = writePolicy(work.dir, `preset:
  name: example-registry
  description: "a registry, read only"
network_policies:
  registry:
    name: registry
    endpoints:
      - host: registry.example.test
        port: 443
        protocol: rest
        access: read-only
    binaries:
      - { path: /usr/bin/npm }
`, 'preset.yaml');
    const r = warden(['policy', 'validate', '--json', file]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [result] = parseJsonResults(r.stdout);
    assert.equal(result?.kind, 'preset');
    assert.equal(result?.valid, true);
    assert.equal(result?.network_policies, 1);

    const human = warden(['policy', 'validate', file]);
    assert.equal(human.stdout.trim(), `${file}: valid preset (1 network policy)`);
  });

  test('a preset cannot carry a filesystem section: it is rejected, not ignored', () => {
    const text = `preset:
  name: sneaky
network_policies: {}
filesystem_policy:
  read_write: [/etc]
`;
    const file = writePolicy(work.dir, text, 'preset-fs.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const at = positionOf(text, 'filesystem_policy');
    lineStartingWith(r.stderr, `${file}:${at.line}:${at.column}: filesystem_policy: unknown key "filesystem_policy"`);
  });
});

describe('warden policy validate: invalid files', () => {
  test('several files, one invalid: exit 1, each problem as FILE:LINE:COLUMN: PATH: message, valid files still reported', () => {
    const first = writePolicy(work.dir, VALID_POLICY, 'first.yaml');
    const bad = writePolicy(work.dir, INVALID_POLICY, 'bad.yaml');
    const last = writePolicy(work.dir, 'version: 1\n', 'last.yaml');
    const r = warden(['policy', 'validate', first, bad, last]);
    assert.equal(r.status, 1, r.stdout + r.stderr);

    assert.deepEqual(lines(r.stdout), [
      `${first}: valid policy (1 network policy)`,
      `${last}: valid policy (0 network policies)`,
    ]);

    const relative = positionOf(INVALID_POLICY, 'relative/path');
    const pathLine = lineStartingWith(r.stderr, `${bad}:${relative.line}:${relative.column}: filesystem_policy.read_only[1]: `);
    assert.match(pathLine, /absolute path/);
    assert.match(pathLine, /"relative\/path"/, 'says what it found');

    const port = positionOf(INVALID_POLICY, '99999');
    const portLine = lineStartingWith(r.stderr, `${bad}:${port.line}:${port.column}: network_policies.web.endpoints[0].port: `);
    assert.match(portLine, /1\.\.65535/, 'says what was expected');
    assert.match(portLine, /99999/, 'says what it found');

    assert.equal(lineStartingWith(r.stderr, `${bad}: invalid`), `${bad}: invalid (2 problems)`);
    assert.ok(!r.stderr.includes(first) && !r.stderr.includes(last), 'valid files produce no diagnostics');
    assertNoStackTrace(r.stderr);
  });

  test('an unknown key is located at the key and comes with a did-you-mean', () => {
    const text = 'version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_onyl: [/usr]\n';
    const file = writePolicy(work.dir, text, 'typo.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const at = positionOf(text, 'read_onyl');
    const line = lineStartingWith(r.stderr, `${file}:${at.line}:${at.column}: filesystem_policy.read_onyl: `);
    assert.match(line, /unknown key "read_onyl"; did you mean "read_only"\?/);
  });

  test('an unknown key with no near match lists the allowed keys instead of guessing', () => {
    const text = 'version: 1\nlandlock:\n  zzzzzzzz: 1\n';
    const file = writePolicy(work.dir, text, 'unknown.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const at = positionOf(text, 'zzzzzzzz');
    const line = lineStartingWith(r.stderr, `${file}:${at.line}:${at.column}: landlock.zzzzzzzz: `);
    assert.doesNotMatch(line, /did you mean/);
    assert.match(line, /expected one of: .*compatibility/);
  });

  test('a misspelt enum value gets a did-you-mean too', () => {
    const text = 'version: 1\nlandlock:\n  compatibility: best_efort\n';
    const file = writePolicy(work.dir, text, 'enum.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const at = positionOf(text, 'best_efort');
    const line = lineStartingWith(r.stderr, `${file}:${at.line}:${at.column}: landlock.compatibility: `);
    assert.match(line, /did you mean "best_effort"\?/);
  });

  test('a missing file: exit 1 with a readable message naming it, and the other files are still checked', () => {
    const missing = path.join(work.dir, 'does-not-exist.yaml');
    const valid = writePolicy(work.dir, VALID_POLICY, 'beside-missing.yaml');
    const r = warden(['policy', 'validate', missing, valid]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(lineStartingWith(r.stderr, `cannot read policy file ${missing}`), `cannot read policy file ${missing}: no such file or directory`);
    assert.deepEqual(lines(r.stdout), [`${valid}: valid policy (1 network policy)`]);
    assertNoStackTrace(r.stderr);
  });

  test('a directory given as a file is reported, not crashed on', () => {
    const r = warden(['policy', 'validate', work.dir]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(lineStartingWith(r.stderr, `cannot read policy file ${work.dir}`), /is a directory/i);
    assertNoStackTrace(r.stderr);
  });

  test('YAML syntax errors are located exactly', () => {
    const nested = 'version: 1\nlandlock:\n  compatibility: best_effort: yes\n';
    const nestedFile = writePolicy(work.dir, nested, 'nested.yaml');
    const tab = 'version: 1\nlandlock:\n\tcompatibility: best_effort\n';
    const tabFile = writePolicy(work.dir, tab, 'tab.yaml');
    const r = warden(['policy', 'validate', nestedFile, tabFile]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stdout, '');

    const value = positionOf(nested, 'best_effort: yes');
    assert.match(lineStartingWith(r.stderr, `${nestedFile}:${value.line}:${value.column}: `), /YAML syntax: .*nested mapping/i);
    const tabAt = positionOf(tab, '\t');
    assert.match(lineStartingWith(r.stderr, `${tabFile}:${tabAt.line}:${tabAt.column}: `), /YAML syntax: .*tab/i);
    assertNoStackTrace(r.stderr);
  });

  test('a file that is not a mapping at all is rejected with a located message', () => {
    const file = writePolicy(work.dir, '- just\n- a list\n', 'list.yaml');
    const r = warden(['policy', 'validate', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(lineStartingWith(r.stderr, `${file}:1:1: `), /expected a mapping with "version: 1".*got a list/);
  });
});

describe('warden policy validate --json', () => {
  test('prints one parseable result per file, with located diagnostics, and nothing on stderr', () => {
    const valid = writePolicy(work.dir, VALID_POLICY, 'json-valid.yaml');
    const bad = writePolicy(work.dir, INVALID_POLICY, 'json-bad.yaml');
    const missing = path.join(work.dir, 'json-missing.yaml');
    const r = warden(['policy', 'validate', '--json', valid, bad, missing]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, '');

    const results = parseJsonResults(r.stdout);
    assert.deepEqual(results.map((x) => [x.file, x.valid]), [[valid, true], [bad, false], [missing, false]]);
    assert.equal(results[0]?.kind, 'policy');
    assert.deepEqual(results[0]?.diagnostics, []);

    const relative = positionOf(INVALID_POLICY, 'relative/path');
    const port = positionOf(INVALID_POLICY, '99999');
    const badDiagnostics = results[1]!.diagnostics;
    assert.deepEqual(badDiagnostics.map((d) => [d.file, d.line, d.column, d.path]), [
      [bad, relative.line, relative.column, 'filesystem_policy.read_only[1]'],
      [bad, port.line, port.column, 'network_policies.web.endpoints[0].port'],
    ]);
    assert.match(badDiagnostics[0]!.message, /absolute path/);

    assert.equal(results[2]!.diagnostics.length, 0, 'an unreadable file has no positions to report');
    assert.match(results[2]!.error ?? '', new RegExp(`cannot read policy file ${missing}: no such file`));
  });

  test('--json after the files works the same, and an all-valid run exits 0', () => {
    const valid = writePolicy(work.dir, VALID_POLICY, 'json-after.yaml');
    const r = warden(['policy', 'validate', valid, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(parseJsonResults(r.stdout).map((x) => x.valid), [true]);
  });
});
