import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { defaultPolicy } from '../../src/policy/index.js';
import {
  findLandlockHelper, helperArgv, LANDLOCK_HELPER_INSIDE, landlockRules, LandlockRequiredError, planLandlock,
  type LandlockRules,
} from '../../src/sandbox/landlock.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-landlock-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fs(readOnly: string[], readWrite: string[] = [], includeWorkdir = true) {
  return { filesystem_policy: { include_workdir: includeWorkdir, read_only: readOnly, read_write: readWrite } };
}

/** A stand-in helper whose `--abi` answer is `abi` (empty: the kernel has no Landlock). */
function fakeHelper(mode: number, abi = '7'): string {
  const file = path.join(scratch, `helper-${mode.toString(8)}-${abi || 'none'}`);
  writeFileSync(file, abi ? `#!/bin/sh\necho ${abi}\n` : '#!/bin/sh\nexit 1\n');
  chmodSync(file, mode);
  return file;
}

/** Reads a helper command line back into rules, the way landlock-exec parses it. */
function parseHelperArgv(argv: string[]): { bestEffort: boolean; rules: LandlockRules } {
  const rules: LandlockRules = { readOnly: [], readWrite: [], readWriteNoExec: [], readOnlyFiles: [], readWriteFiles: [] };
  const lists: Record<string, string[]> = {
    '--ro': rules.readOnly, '--rw': rules.readWrite, '--rwnoexec': rules.readWriteNoExec, '--rofile': rules.readOnlyFiles, '--rwfile': rules.readWriteFiles,
  };
  let bestEffort = false;
  for (let i = 1; i < argv.length - 1; i++) {
    const arg = argv[i]!;
    if (arg === '--best-effort') { bestEffort = true; continue; }
    const list = lists[arg];
    assert.ok(list, `unexpected helper argument ${arg}`);
    list.push(argv[++i]!);
  }
  return { bestEffort, rules };
}

describe('landlockRules', () => {
  test('the default policy: system trees read-only, workdir and warden trees writable', () => {
    const rules = landlockRules(defaultPolicy());
    assert.deepEqual(rules.readOnly, ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc', '/.warden']);
    assert.deepEqual(rules.readWrite, ['/tmp', '/sandbox', '/proc']);
    // /dev stays writable (device nodes, /dev/shm) but nothing there may be executed.
    assert.deepEqual(rules.readWriteNoExec, ['/dev']);
    // /etc/passwd and /etc/group are below /etc, already readable.
    assert.deepEqual(rules.readOnlyFiles, []);
    assert.deepEqual(rules.readWriteFiles, []);
  });

  test('without the workdir, /sandbox gets no rule', () => {
    const rules = landlockRules(fs(['/usr'], [], false));
    assert.ok(!rules.readWrite.includes('/sandbox'));
    assert.deepEqual(rules.readWrite, ['/tmp', '/proc']);
  });

  test('warden-generated account files are readable when /etc is not listed', () => {
    const rules = landlockRules(fs(['/usr']));
    assert.deepEqual(rules.readOnlyFiles, ['/etc/passwd', '/etc/group']);
    assert.ok(!rules.readOnly.includes('/etc'));
  });

  test('a path in both lists is read-only, as in the mount plan', () => {
    const rules = landlockRules(fs(['/srv/data'], ['/srv/data', '/srv/out'], false));
    assert.ok(rules.readOnly.includes('/srv/data'));
    assert.ok(!rules.readWrite.includes('/srv/data'));
    assert.ok(rules.readWrite.includes('/srv/out'));
  });

  test('rules that the union of their parents already grants are left out', () => {
    const rules = landlockRules(fs(
      ['/usr', '/usr/lib', '/sandbox/.agent-config', '/dev/urandom', '/tmp/cache', '/opt/tool'],
      ['/tmp/build', '/proc/self', '/opt', '/dev/shm'],
    ));
    // read-only below read-only, anything below read-write: no extra access, no rule; /dev is warden's
    assert.deepEqual(rules.readOnly, ['/usr', '/.warden']);
    assert.deepEqual(rules.readWrite, ['/opt', '/sandbox', '/tmp', '/proc']);
    assert.deepEqual(rules.readWriteNoExec, ['/dev']);
  });

  test("warden's writable trees stay writable when a policy lists them read-only", () => {
    const rules = landlockRules(fs(['/tmp', '/dev', '/sandbox', '/usr'], [], true));
    assert.deepEqual(rules.readOnly, ['/usr', '/.warden']);
    assert.deepEqual(rules.readWrite, ['/sandbox', '/tmp', '/proc']);
    assert.deepEqual(rules.readWriteNoExec, ['/dev']);
  });

  test('read-write below read-only stays: it grants more than its parent', () => {
    const rules = landlockRules(fs(['/srv'], ['/srv/out'], false));
    assert.deepEqual(rules.readOnly, ['/srv', '/.warden']);
    assert.ok(rules.readWrite.includes('/srv/out'));
  });

  test('paths are normalised before comparing', () => {
    const rules = landlockRules(fs(['/usr/', '/usr/./lib/', '/etc//'], ['/srv/a/../b/'], false));
    assert.deepEqual(rules.readOnly, ['/usr', '/etc', '/.warden']);
    assert.ok(rules.readWrite.includes('/srv/b'));
  });

  test('a whole-root read-only policy keeps only the writable trees beside it', () => {
    const rules = landlockRules(fs(['/'], [], true));
    assert.deepEqual(rules.readOnly, ['/']);
    assert.deepEqual(rules.readWrite, ['/sandbox', '/tmp', '/proc']);
    assert.deepEqual(rules.readOnlyFiles, []);
  });

  test("warden's own directory, with the helper in it, is always readable and never writable", () => {
    const rules = landlockRules(fs([], [], false));
    assert.deepEqual(rules.readOnly, ['/.warden']);
    assert.ok(LANDLOCK_HELPER_INSIDE.startsWith('/.warden/'));
    assert.ok(!rules.readWrite.some((p) => LANDLOCK_HELPER_INSIDE.startsWith(p + '/')));
  });
});

describe('planLandlock', () => {
  const rules = landlockRules(defaultPolicy());

  test('no landlock section means best_effort: on by default, a warning when the helper is missing', () => {
    const wrapped = planLandlock({}, rules, fakeHelper(0o755));
    assert.equal(wrapped.kind, 'wrap');
    assert.deepEqual(wrapped, planLandlock({ compatibility: 'best_effort' }, rules, fakeHelper(0o755)));
    const missing = planLandlock({}, rules, path.join(scratch, 'missing'));
    assert.equal(missing.kind, 'none');
    assert.match(missing.kind === 'none' ? missing.warning ?? '' : '', /not built/);
  });

  test('best_effort with the helper: wrap CMD, and let the helper tolerate a kernel without Landlock', () => {
    const helper = fakeHelper(0o755);
    const launch = planLandlock({ compatibility: 'best_effort' }, rules, helper);
    assert.equal(launch.kind, 'wrap');
    if (launch.kind !== 'wrap') return;
    assert.equal(launch.hostBinary, helper);
    assert.equal(launch.insidePath, LANDLOCK_HELPER_INSIDE);
    assert.equal(launch.prefix[0], LANDLOCK_HELPER_INSIDE);
    assert.equal(launch.prefix.at(-1), '--');
    assert.deepEqual(parseHelperArgv(launch.prefix), { bestEffort: true, rules });
  });

  test('hard_requirement with the helper: wrap CMD without --best-effort', () => {
    const launch = planLandlock({ compatibility: 'hard_requirement' }, rules, fakeHelper(0o755));
    assert.equal(launch.kind, 'wrap');
    if (launch.kind !== 'wrap') return;
    assert.ok(!launch.prefix.includes('--best-effort'));
    assert.deepEqual(parseHelperArgv(launch.prefix), { bestEffort: false, rules });
  });

  test('hard_requirement on a kernel without Landlock is refused before anything starts', () => {
    assert.throws(() => planLandlock({ compatibility: 'hard_requirement' }, rules, fakeHelper(0o755, '')), LandlockRequiredError);
    // best_effort leaves the decision to the helper inside the sandbox, which warns in one line.
    assert.equal(planLandlock({ compatibility: 'best_effort' }, rules, fakeHelper(0o755, '')).kind, 'wrap');
  });

  test('helper not built: best_effort warns once and runs with the mount namespace only', () => {
    const missing = path.join(scratch, 'not-built');
    const launch = planLandlock({ compatibility: 'best_effort' }, rules, missing);
    assert.equal(launch.kind, 'none');
    if (launch.kind !== 'none') return;
    assert.match(launch.warning ?? '', /^warden: landlock: best_effort requested but the Landlock helper is not built/);
    assert.ok(launch.warning?.includes(missing));
    assert.equal(launch.warning?.includes('\n'), false);
  });

  test('helper not built: hard_requirement refuses to start', () => {
    const missing = path.join(scratch, 'not-built');
    assert.throws(() => planLandlock({ compatibility: 'hard_requirement' }, rules, missing),
      (error: unknown) => error instanceof LandlockRequiredError && error.message.includes(missing) && /refusing to start/.test(error.message));
  });

  test('a helper that is not executable counts as not built', () => {
    const helper = fakeHelper(0o644);
    assert.throws(() => planLandlock({ compatibility: 'hard_requirement' }, rules, helper), LandlockRequiredError);
    assert.equal(planLandlock({ compatibility: 'best_effort' }, rules, helper).kind, 'none');
  });

  test('a directory is not a helper', () => {
    assert.throws(() => planLandlock({ compatibility: 'hard_requirement' }, rules, scratch), LandlockRequiredError);
  });
});

describe('helperArgv', () => {
  test('one flag per path, in a fixed order, ending with --', () => {
    const argv = helperArgv('hard_requirement', {
      readOnly: ['/usr', '/etc'], readWrite: ['/tmp'], readWriteNoExec: ['/dev'], readOnlyFiles: ['/etc/passwd'], readWriteFiles: ['/dev/null'],
    }, '/x/ll');
    assert.deepEqual(argv, ['/x/ll', '--ro', '/usr', '--ro', '/etc', '--rw', '/tmp', '--rwnoexec', '/dev', '--rofile', '/etc/passwd', '--rwfile', '/dev/null', '--']);
  });

  test('a path that looks like an option stays a path argument', () => {
    const argv = helperArgv('best_effort', { readOnly: ['/--rw'], readWrite: [], readWriteNoExec: [], readOnlyFiles: [], readWriteFiles: [] }, '/x/ll');
    assert.deepEqual(argv, ['/x/ll', '--best-effort', '--ro', '/--rw', '--']);
  });
});

test('findLandlockHelper finds dist/native/landlock-exec exactly when it was built', () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const built = path.join(repo, 'dist', 'native', 'landlock-exec');
  assert.equal(findLandlockHelper(), existsSync(built) ? built : undefined);
});
