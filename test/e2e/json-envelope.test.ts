// Every command with --json answers in one envelope (docs/commands.md, "JSON output"):
// {"ok": true, "result": ...} or {"ok": false, "error": {"code", "message", ...}[, "result"]}, with
// ok true exactly when warden exits 0; and a sandbox that does not exist is no_such_sandbox in
// every command that names one. The table must cover every command whose help offers --json.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newHome, SKIP_NO_BWRAP, tempDir, warden, writePolicy, type Home, type Result } from './helpers.js';

interface Case {
  /** Arguments of a call that succeeds, or why this command has no JSON success answer. */
  success: string[] | { none: string };
  /** Arguments of a call that fails, and the code it must fail with. */
  error: { args: string[]; code: string };
}

const POLICY = `version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /lib64, /bin, /etc]
  read_write: [/sandbox, /tmp]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies: {}
`;

describe('the --json envelope', { skip: SKIP_NO_BWRAP }, () => {
  let home: Home;
  const files = tempDir('warden-e2e-json-');
  const policy = writePolicy(files.dir, POLICY);
  const text = path.join(files.dir, 'plain.txt');
  const missing = path.join(files.dir, 'missing.yaml');
  writeFileSync(text, 'The build finished; 12 tests passed.\n');
  const PROVIDER = ['provider', 'create', 'p1', '--type', 'generic', '--credential', 'JSON_TEST_TOKEN', '--host', 'api.example.test'];
  const noSuch = (...args: string[]) => ({ args, code: 'no_such_sandbox' });
  const usage = (...args: string[]) => ({ args: [...args, '--no-such-option'], code: 'usage' });

  // In order: later rows use what earlier ones made (sandboxes js and js2, provider p1).
  const table: Array<[string, Case]> = [
    ['gateway start', { success: ['gateway', 'start'], error: usage('gateway', 'start') }],
    ['gateway status', { success: ['gateway', 'status'], error: usage('gateway', 'status') }],
    ['sandbox create', { success: ['sandbox', 'create', 'js', '--policy', policy], error: { args: ['sandbox', 'create', 'js'], code: 'exists' } }],
    ['sandbox list', { success: ['sandbox', 'list'], error: usage('sandbox', 'list') }],
    ['sandbox get', { success: ['sandbox', 'get', 'js'], error: noSuch('sandbox', 'get', 'nope') }],
    ['sandbox start', { success: ['sandbox', 'start', 'js'], error: noSuch('sandbox', 'start', 'nope') }],
    ['sandbox update', { success: ['sandbox', 'update', 'js', '--approval-mode', 'ask'], error: noSuch('sandbox', 'update', 'nope', '--approval-mode', 'ask') }],
    ['policy set', { success: ['policy', 'set', 'js', policy], error: noSuch('policy', 'set', 'nope', policy) }],
    ['policy update', {
      success: ['policy', 'update', 'js', '--add-endpoint', 'api.example.test:443', '--binary', '/usr/bin/curl'],
      error: noSuch('policy', 'update', 'nope', '--add-endpoint', 'api.example.test:443', '--binary', '/usr/bin/curl'),
    }],
    ['policy add-preset', { success: ['policy', 'add-preset', 'js', 'pypi'], error: noSuch('policy', 'add-preset', 'nope', 'pypi') }],
    ['policy get', { success: ['policy', 'get', 'js'], error: noSuch('policy', 'get', 'nope') }],
    ['policy history', { success: ['policy', 'history', 'js'], error: noSuch('policy', 'history', 'nope') }],
    ['policy diff', { success: ['policy', 'diff', 'js', '1', '2'], error: noSuch('policy', 'diff', 'nope', '1', '2') }],
    ['policy explain', { success: ['policy', 'explain', 'js', 'api.example.test:443', '--binary', '/usr/bin/curl'], error: noSuch('policy', 'explain', 'nope', 'api.example.test:443', '--binary', '/usr/bin/curl') }],
    ['policy validate', { success: ['policy', 'validate', policy], error: { args: ['policy', 'validate', missing], code: 'policy_invalid' } }],
    ['preset list', { success: ['preset', 'list'], error: usage('preset', 'list') }],
    ['preset show', { success: ['preset', 'show', 'pypi'], error: { args: ['preset', 'show', 'nope'], code: 'unknown_preset' } }],
    ['exec', { success: { none: "prints the command's own output" }, error: noSuch('exec', 'nope', '--', 'true') }],
    ['run', { success: { none: "prints the command's own output" }, error: { args: ['run', '--', 'no-such-command-here'], code: 'command_not_found' } }],
    ['logs', { success: { none: 'a stream: one JSON object per record' }, error: noSuch('logs', 'nope') }],
    ['approvals list', { success: ['approvals', 'list'], error: noSuch('approvals', 'list', '--sandbox', 'nope') }],
    ['approvals watch', { success: { none: 'a stream: one JSON object per event' }, error: noSuch('approvals', 'watch', '--sandbox', 'nope') }],
    // Success needs a held request: test/e2e/approvals.test.ts answers them through the envelope.
    ['approvals approve', { success: { none: 'needs a held request (approvals.test.ts)' }, error: { args: ['approvals', 'approve', '999'], code: 'not_found' } }],
    ['approvals deny', { success: { none: 'needs a held request (approvals.test.ts)' }, error: { args: ['approvals', 'deny', '999'], code: 'not_found' } }],
    ['provider types', { success: ['provider', 'types'], error: usage('provider', 'types') }],
    ['provider create', { success: PROVIDER, error: { args: PROVIDER, code: 'exists' } }],
    ['provider update', { success: ['provider', 'update', 'p1', '--credential', 'JSON_TEST_TOKEN'], error: { args: ['provider', 'update', 'nope', '--credential', 'JSON_TEST_TOKEN'], code: 'not_found' } }],
    ['provider list', { success: ['provider', 'list'], error: usage('provider', 'list') }],
    ['provider get', { success: ['provider', 'get', 'p1'], error: { args: ['provider', 'get', 'nope'], code: 'not_found' } }],
    ['inference get', { success: ['inference', 'get'], error: usage('inference', 'get') }],
    ['inference set', { success: { none: 'needs a model provider that answers (inference.test.ts)' }, error: { args: ['inference', 'set', '--provider', 'nope', '--model', 'm'], code: 'not_found' } }],
    // Success needs a model provider that answers: test/e2e/onboard.test.ts reads it through the envelope.
    ['onboard', { success: { none: 'needs a model provider that answers (onboard.test.ts)' }, error: { args: ['onboard', '--non-interactive', '--tier', 'nope'], code: 'usage' } }],
    ['provider delete', { success: ['provider', 'delete', 'p1'], error: { args: ['provider', 'delete', 'p1'], code: 'not_found' } }],
    ['audit verify', { success: ['audit', 'verify'], error: usage('audit', 'verify') }],
    ['scan', { success: ['scan', text], error: { args: ['scan', missing], code: 'unreadable_input' } }],
    ['doctor', { success: { none: 'passes only where the machine does: its shape is checked in test/cli/doctor.test.ts' }, error: usage('doctor') }],
    ['sandbox stop', { success: ['sandbox', 'stop', 'js'], error: noSuch('sandbox', 'stop', 'nope') }],
    ['sandbox delete', { success: ['sandbox', 'delete', 'js', '--purge'], error: noSuch('sandbox', 'delete', 'nope') }],
    ['blueprint list', { success: ['blueprint', 'list'], error: usage('blueprint', 'list') }],
    ['blueprint provision', { success: { none: 'downloads an agent from the registry (openclaw.test.ts)' }, error: { args: ['blueprint', 'provision', 'nope'], code: 'unknown_blueprint' } }],
    ['launch', { success: { none: 'needs a provisioned agent and a model route (openclaw.test.ts)' }, error: { args: ['launch', 'nope'], code: 'unknown_blueprint' } }],
    ['forward', { success: { none: 'needs a server in a sandbox (forward.test.ts)' }, error: noSuch('forward', 'nope', '8080') }],
    ['gateway stop', { success: ['gateway', 'stop'], error: usage('gateway', 'stop') }],
  ];

  before(() => {
    // The credential `provider create` reads from warden's environment (a made-up value).
    process.env.JSON_TEST_TOKEN = 'not-a-real-token';
    home = newHome();
  });
  after(async () => {
    await home.cleanup();
    files.cleanup();
  });

  test('the table covers every command whose help offers --json', () => {
    const completion = warden(['completion', 'bash']);
    assert.equal(completion.status, 0, completion.stderr);
    const offered = [...completion.stdout.matchAll(/^\s+"([a-z -]+)"\) words="([^"]*)"/gm)]
      .filter((match) => match[2]!.split(' ').includes('--json')).map((match) => match[1]!);
    assert.ok(offered.length > 20, completion.stdout);
    assert.deepEqual([...new Set(table.map(([name]) => name))].sort(), offered.sort());
  });

  test('success and failure of each command: one line, ok as the exit status says, an error code', async () => {
    for (const [name, row] of table) {
      if (Array.isArray(row.success)) {
        const r = await home.run(withJson(row.success));
        const envelope = parseEnvelope(r, name);
        assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
        assert.deepEqual(Object.keys(envelope).sort(), ['ok', 'result'], `${name}: ${r.stdout}`);
        assert.equal(envelope.ok, true, name);
      }
      const r = await home.run(withJson(row.error.args));
      const envelope = parseEnvelope(r, name);
      assert.notEqual(r.status, 0, `${name} must fail: ${r.stdout}`);
      assert.equal(envelope.ok, false, name);
      assert.ok(Object.keys(envelope).every((key) => ['ok', 'error', 'result'].includes(key)), `${name}: ${r.stdout}`);
      assert.equal(envelope.error?.code, row.error.code, `${name}: ${r.stdout}`);
      assert.equal(typeof envelope.error?.message, 'string', name);
    }
  });
});

/** --json goes before `--`: what follows it is the sandboxed command's. */
function withJson(args: string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? [...args, '--json'] : [...args.slice(0, end), '--json', ...args.slice(end)];
}

function parseEnvelope(r: Result, name: string): { ok: boolean; result?: unknown; error?: { code: string; message: string } } {
  const stdout = r.stdout;
  const lines = stdout.trim().split('\n');
  assert.notEqual(stdout.trim(), '', `${name}: nothing on stdout (exit ${r.status}): ${r.stderr}`);
  assert.equal(lines.length, 1, `${name}: one line of JSON on stdout, not:\n${stdout}`);
  const parsed: unknown = JSON.parse(lines[0]!);
  assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), `${name}: an object`);
  return parsed as ReturnType<typeof parseEnvelope>;
}
