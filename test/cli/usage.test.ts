// The warden CLI's contract with its user: usage and help, exit codes (2 usage, 125 setup,
// 126/127 command), --json errors, and that a refused setup never runs CMD.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { COMMAND_MODULES } from '../../src/cli/main.js';
import { tamper } from './audit-fixture.js';
import {
  REPO_ROOT, SKIP_NO_BWRAP, SKIP_NOT_ROOT, projectDir, tempDir, warden, writePolicy, type Result,
} from '../e2e/helpers.js';

const USAGE = 2;
const SETUP_FAILED = 125;
const NOT_EXECUTABLE = 126;
const NOT_FOUND = 127;

const policies = tempDir('warden-cli-usage-');
after(() => policies.cleanup());

function lines(output: string): string[] {
  return output.split('\n').filter((l) => l !== '');
}

function assertNoStackTrace(output: string): void {
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace leaked to the user:\n${output}`);
  assert.doesNotMatch(output, /internal error/i);
}

function show(r: Result): string {
  return `status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** stdout must be exactly one line holding one JSON object. */
function singleJsonObject(stdout: string): { ok: boolean; error: { code: string; message: string; [key: string]: unknown } } {
  const all = lines(stdout);
  assert.equal(all.length, 1, `expected one JSON line on stdout, got:\n${stdout}`);
  const parsed: unknown = JSON.parse(all[0]!);
  assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), 'a JSON object');
  return parsed as ReturnType<typeof singleJsonObject>;
}

/** 1-based line and column of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const offset = text.indexOf(needle);
  assert.notEqual(offset, -1, `test bug: ${JSON.stringify(needle)} not in the YAML`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

const SYSTEM = '  read_only: [/usr, /bin, /sbin, /lib, /lib64, /etc]\n';
const RUNNABLE_POLICY = `version: 1\nfilesystem_policy:\n  include_workdir: true\n${SYSTEM}`;
const BAD_POLICY = `version: 1
filesystem_policy:
  include_workdir: true
${SYSTEM}process:
  run_as_user: sandbox
  run_as_grup: sandbox
`;
const landlockPolicy = (compatibility: string) => `${RUNNABLE_POLICY}landlock:\n  compatibility: ${compatibility}\n`;

/** CMD for the "was anything run?" checks: leaves /sandbox/marker behind when it runs. */
const MARK = ['sh', '-c', 'echo ran > /sandbox/marker && echo ran'];

/** A --workdir owned by a normal user, which the sandbox may write (under root through an idmapped mount). */
function sandboxWorkdir(): { dir: string; marker: string; cleanup: () => void } {
  const work = projectDir('warden-cli-work-');
  return { ...work, marker: path.join(work.dir, 'marker') };
}

describe('usage and help', () => {
  test('each command group loaded on demand lists exactly the top-level commands its module adds', async () => {
    // warden loads a group only when the command line names one of its commands: a command
    // missing from its list would be unknown whenever the command line names only it.
    for (const group of COMMAND_MODULES) {
      const program = new Command('warden').enablePositionalOptions();
      const policy = program.command('policy');
      (await group.load())({ program, policy, setExit: () => undefined, mode: { json: false } });
      const added = program.commands.filter((c) => c !== policy).flatMap((c) => [c.name(), ...c.aliases()]);
      if (policy.commands.length > 0) added.push('policy');
      assert.deepEqual([...group.commands].sort(), added.sort());
    }
    const help = warden(['--help']);
    for (const name of COMMAND_MODULES.flatMap((group) => group.commands)) assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
  });

  test('no arguments: usage on stderr, nothing on stdout, exit 2', () => {
    const r = warden([]);
    assert.equal(r.status, USAGE, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: warden /m);
    assert.match(r.stderr, /^\s+run\b/m);
  });

  for (const flag of ['--help', '-h']) {
    test(`${flag} lists the run and policy commands on stdout, exit 0`, () => {
      const r = warden([flag]);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, /^Usage: warden /m);
      assert.match(r.stdout, /^\s+run \[options\] <CMD\.\.\.>\s+\S/m);
      assert.match(r.stdout, /^\s+policy\s+\S/m);
      assert.equal(r.stderr, '');
    });
  }

  test('warden run --help documents its options and exit codes, exit 0', () => {
    const r = warden(['run', '--help']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^Usage: warden run \[options\] -- CMD/m);
    for (const option of ['--policy', '--workdir', '--env', '--name', '--json']) assert.ok(r.stdout.includes(option), `mentions ${option}`);
    for (const code of ['125', '126', '127']) assert.ok(r.stdout.includes(code), `documents exit code ${code}`);
  });

  test('warden policy validate --help, and `warden help run`, exit 0', () => {
    const validate = warden(['policy', 'validate', '--help']);
    assert.equal(validate.status, 0, show(validate));
    assert.match(validate.stdout, /^Usage: warden policy validate \[options\] <FILE\.\.\.>/m);
    assert.ok(validate.stdout.includes('--json'));

    const helpRun = warden(['help', 'run']);
    assert.equal(helpRun.status, 0, show(helpRun));
    assert.match(helpRun.stdout, /^Usage: warden run /m);
  });

  test('an unknown command: exit 2, named, with a hint', () => {
    const r = warden(['frobnicate']);
    assert.equal(r.status, USAGE, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /--help/);
  });

  test('`warden policy` without a subcommand and `warden help nosuch` are usage errors, not success', () => {
    const bare = warden(['policy']);
    assert.equal(bare.status, USAGE, show(bare));
    assert.match(bare.stderr, /^Usage: warden policy /m);
    assert.match(bare.stderr, /validate/);

    const helpUnknown = warden(['help', 'nosuch']);
    assert.equal(helpUnknown.status, USAGE, show(helpUnknown));
  });

  for (const argv of [['--frob'], ['run', '--frob', '--', 'true'], ['policy', 'validate', '--frob', 'x.yaml']]) {
    test(`an unknown option (${argv.join(' ')}): exit 2, named, with a hint`, () => {
      const r = warden(argv);
      assert.equal(r.status, USAGE, show(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /unknown option '--frob'/);
      assert.match(r.stderr, /--help/);
    });
  }

  test('warden run without CMD: exit 2, says CMD is missing', () => {
    for (const argv of [['run'], ['run', '--']]) {
      const r = warden(argv);
      assert.equal(r.status, USAGE, show(r));
      assert.match(r.stderr, /missing required argument 'CMD'/);
    }
  });

  test('--version and -V print package.json\'s version and nothing else', () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = warden([flag]);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout, `${version}\n`);
    }
  });
});

describe('warden run: refused before anything runs', () => {
  test('a malformed --env is a usage error naming the expected NAME=VALUE form', () => {
    for (const bad of ['BAD', '=value', '1X=y', 'A-B=c', '']) {
      const r = warden(['run', '--env', bad, '--', 'true']);
      assert.equal(r.status, USAGE, `--env ${JSON.stringify(bad)}\n${show(r)}`);
      assert.match(r.stderr, /NAME=VALUE/);
      assertNoStackTrace(r.stderr);
    }
    const json = warden(['run', '--json', '--env', 'BAD', '--', 'true']);
    assert.equal(json.status, USAGE, show(json));
    assert.equal(singleJsonObject(json.stdout).error.code, 'usage');
  });

  test('an invalid --policy: exit 125, each problem as file:line:column, and the workdir is not even created', () => {
    const bad = writePolicy(policies.dir, BAD_POLICY, 'bad-run.yaml');
    const fresh = path.join(policies.dir, 'never-created');
    const r = warden(['run', '--policy', bad, '--workdir', fresh, '--', ...MARK]);
    assert.equal(r.status, SETUP_FAILED, show(r));
    assert.equal(r.stdout, '');
    const at = positionOf(BAD_POLICY, 'run_as_grup');
    assert.match(r.stderr, new RegExp(`^${escapeRegExp(`${bad}:${at.line}:${at.column}: process.run_as_grup: `)}.*did you mean "run_as_group"`, 'm'));
    assert.match(r.stderr, /Nothing was run/);
    assert.equal(existsSync(fresh), false, 'warden stopped before setting up the sandbox');
    assertNoStackTrace(r.stderr);
  });

  test('an unreadable --policy: exit 125 with a message naming the file', () => {
    const missing = path.join(policies.dir, 'no-such-policy.yaml');
    const r = warden(['run', '--policy', missing, '--', 'true']);
    assert.equal(r.status, SETUP_FAILED, show(r));
    assert.ok(r.stderr.includes(missing), r.stderr);
    assert.match(r.stderr, /no such file/i);
    assertNoStackTrace(r.stderr);
  });
});

describe('warden run in a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  let work: ReturnType<typeof sandboxWorkdir>;
  before(() => { work = sandboxWorkdir(); });
  after(() => work.cleanup());

  /** Runs MARK with the given warden options; reports whether CMD ran. */
  function runMarked(options: string[]): Result & { ran: boolean } {
    rmSync(work.marker, { force: true });
    const r = warden(['run', '--workdir', work.dir, ...options, '--', ...MARK]);
    return { ...r, ran: existsSync(work.marker) };
  }

  test('control: with a valid policy the marker command runs and leaves its marker', () => {
    const runnable = writePolicy(policies.dir, RUNNABLE_POLICY, 'runnable.yaml');
    const r = runMarked(['--policy', runnable]);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'ran\n');
    assert.equal(r.ran, true);
    assert.equal(readFileSync(work.marker, 'utf8'), 'ran\n');
  });

  test('an invalid --policy never runs CMD', () => {
    const bad = writePolicy(policies.dir, BAD_POLICY, 'bad-marked.yaml');
    const r = runMarked(['--policy', bad]);
    assert.equal(r.status, SETUP_FAILED, show(r));
    assert.equal(r.ran, false, 'CMD ran despite an invalid policy');
    assert.equal(r.stdout, '');
  });

  test('an invalid --policy with --json: one JSON error object on stdout with located diagnostics, CMD not run', () => {
    const bad = writePolicy(policies.dir, BAD_POLICY, 'bad-json.yaml');
    const r = runMarked(['--json', '--policy', bad]);
    assert.equal(r.status, SETUP_FAILED, show(r));
    assert.equal(r.ran, false);
    assert.equal(r.stderr, '', 'with --json the error goes to stdout only');
    const out = singleJsonObject(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.error.code, 'policy_invalid');
    assert.match(out.error.message, /run_as_grup/);
    const at = positionOf(BAD_POLICY, 'run_as_grup');
    const diagnostics = out.error.diagnostics as Array<Record<string, unknown>>;
    assert.equal(diagnostics.length, 1);
    assert.deepEqual(
      { file: diagnostics[0]!.file, line: diagnostics[0]!.line, column: diagnostics[0]!.column, path: diagnostics[0]!.path },
      { file: bad, line: at.line, column: at.column, path: 'process.run_as_grup' },
    );
    assert.match(String(diagnostics[0]!.message), /did you mean "run_as_group"/);
  });

  test('an audit log that refuses the run\'s record never runs CMD, though the sandbox is built meanwhile', () => {
    const home = tempDir('warden-cli-refusing-log-');
    try {
      const env = { WARDEN_HOME: path.join(home.dir, 'home') };
      assert.equal(warden(['run', '--', 'true'], { env }).status, 0, 'control: the log takes records');
      tamper(env.WARDEN_HOME, "CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
      rmSync(work.marker, { force: true });
      const r = warden(['run', '--workdir', work.dir, '--', ...MARK], { env });
      assert.equal(r.status, SETUP_FAILED, show(r));
      assert.equal(existsSync(work.marker), false, 'CMD ran without its audit record');
      assert.match(r.stderr, /could not be recorded in the audit log, so nothing was run: refused by the test/);
    } finally {
      home.cleanup();
    }
  });

  test('CMD gets blocking stdin and stdout even where warden\'s own pipes are non-blocking (Node makes them so)', () => {
    const r = warden(['run', '--', 'sh', '-c', 'grep ^flags: /proc/self/fdinfo/0 /proc/self/fdinfo/1'], { input: 'x' });
    assert.equal(r.status, 0, show(r));
    const flags = lines(r.stdout).map((line) => parseInt(line.split(/\s+/).at(-1)!, 8));
    assert.equal(flags.length, 2, r.stdout);
    for (const value of flags) assert.equal(value & 0o4000, 0, `O_NONBLOCK is set: ${r.stdout}`);
  });

  test('a malformed --env never runs CMD; a well-formed one reaches it', () => {
    const bad = runMarked(['--env', 'BAD']);
    assert.equal(bad.status, USAGE, show(bad));
    assert.equal(bad.ran, false);

    const good = warden(['run', '--env', 'GREETING=hello world', '--', 'sh', '-c', 'printf "%s\\n" "$GREETING"']);
    assert.equal(good.status, 0, show(good));
    assert.equal(good.stdout, 'hello world\n');
  });

  test('a command missing from the sandbox: exit 127; with --json, code command_not_found', () => {
    const r = warden(['run', '--', 'no-such-cmd', 'arg']);
    assert.equal(r.status, NOT_FOUND, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no-such-cmd: command not found inside the sandbox/);
    assertNoStackTrace(r.stderr);

    const json = warden(['run', '--json', '--', 'no-such-cmd']);
    assert.equal(json.status, NOT_FOUND, show(json));
    const out = singleJsonObject(json.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.error.code, 'command_not_found');
    assert.equal(out.error.command, 'no-such-cmd');
  });

  test('a host program outside the policy\'s paths is "not found" (127), though it exists on the host', () => {
    const onlyUsr = writePolicy(policies.dir, 'version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr, /lib, /lib64]\n', 'only-usr.yaml');
    const hostOnly = path.join(policies.dir, 'host-only-tool');
    writeFileSync(hostOnly, '#!/bin/sh\necho should not run\n', { mode: 0o755 });
    const r = warden(['run', '--policy', onlyUsr, '--', hostOnly]);
    assert.equal(r.status, NOT_FOUND, show(r));
    assert.equal(r.stdout, '');

    const control = warden(['run', '--policy', onlyUsr, '--', '/usr/bin/true']);
    assert.equal(control.status, 0, show(control));
  });

  test('a file that is not executable: exit 126; with --json, code command_not_executable', () => {
    const script = path.join(work.dir, 'not-executable.sh');
    writeFileSync(script, 'echo should not run\n');
    chmodSync(script, 0o644);
    try {
      const r = warden(['run', '--workdir', work.dir, '--', '/sandbox/not-executable.sh']);
      assert.equal(r.status, NOT_EXECUTABLE, show(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /not an executable file/);

      const json = warden(['run', '--json', '--workdir', work.dir, '--', './not-executable.sh']);
      assert.equal(json.status, NOT_EXECUTABLE, show(json));
      assert.equal(singleJsonObject(json.stdout).error.code, 'command_not_executable');
    } finally {
      rmSync(script, { force: true });
    }
  });

  test('a file only root may execute is 126 for the unprivileged sandbox uid', { skip: SKIP_NOT_ROOT }, () => {
    const script = path.join(work.dir, 'root-only.sh');
    writeFileSync(script, '#!/bin/sh\necho should not run\n', { mode: 0o700 });
    try {
      const r = warden(['run', '--workdir', work.dir, '--', '/sandbox/root-only.sh']);
      assert.equal(r.stdout, '');
      assert.equal(r.status, NOT_EXECUTABLE, show(r));
    } finally {
      rmSync(script, { force: true });
    }
  });

  test('CMD\'s exit status passes through, and --json adds nothing to CMD\'s own stdout', () => {
    const r = warden(['run', '--json', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.status, 7, show(r));
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  // Refusal when Landlock is missing is tested in test/sandbox/landlock.test.ts and
  // test/e2e/landlock.test.ts (a kernel without Landlock is simulated there); this machine has it.
  test('landlock best_effort and hard_requirement: CMD runs confined, with no warning', () => {
    for (const mode of ['best_effort', 'hard_requirement'] as const) {
      const policy = writePolicy(policies.dir, landlockPolicy(mode), `landlock-${mode}.yaml`);
      const r = runMarked(['--policy', policy]);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.ran, true, 'CMD did not run');
      assert.equal(r.stderr, '', `${mode}: Landlock is applied, so there is nothing to warn about`);
    }
  });

  test('no landlock section: no warning at all', () => {
    const plain = writePolicy(policies.dir, RUNNABLE_POLICY, 'no-landlock.yaml');
    const r = runMarked(['--policy', plain]);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stderr, '');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('--name must be a safe name: it becomes a hostname and a file name', () => {
  for (const bad of ['../../etc', 'a/b', '-x', 'has space', '']) {
    const r = warden(['run', '--name', bad, '--', 'true']);
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--name/);
  }
});
