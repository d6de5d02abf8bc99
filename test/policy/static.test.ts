import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { accept, assertAt, reject, rejectOnce, yaml } from './helpers.js';
import { parsePolicy, staticChanges } from '../../src/policy/loader.js';

function readOnly(entry: string): string {
  return yaml('version: 1', 'filesystem_policy:', `  read_only: [${entry}]`);
}

suite('filesystem_policy paths', () => {
  test('absolute paths are kept, with repeated slashes, "." segments and trailing slashes removed', () => {
    const policy = accept(yaml('version: 1', 'filesystem_policy:', '  read_only: [/usr/, //lib, /opt/./tools, /etc]', '  read_write: [/tmp]'));
    assert.deepEqual(policy.filesystem_policy.read_only, ['/usr', '/lib', '/opt/tools', '/etc']);
    assert.deepEqual(policy.filesystem_policy.read_write, ['/tmp']);
  });

  const refused: Array<[string, string]> = [
    ['usr/lib', 'expected an absolute path (starting with "/"), got "usr/lib"'],
    ['./usr', 'expected an absolute path'],
    ['~/work', 'expected an absolute path'],
    ['/usr/../etc', 'a path must not contain ".." segments'],
    ['/..', 'a path must not contain ".." segments'],
    ['/', 'the whole host filesystem ("/") is too broad'],
    ['//', 'the whole host filesystem ("/") is too broad'],
    ['/./', 'the whole host filesystem ("/") is too broad'],
  ];
  for (const [entry, message] of refused) {
    test(`refuses ${entry} in read_only`, () => {
      assertAt(rejectOnce(readOnly(entry)), 3, 15, 'filesystem_policy.read_only[0]', message);
    });
  }

  test('"/" is refused in read_write too, and ".." anywhere in read_write', () => {
    const diagnostics = reject(yaml('version: 1', 'filesystem_policy:', '  read_write: [/, /tmp/../etc]'));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [3, 16, 'filesystem_policy.read_write[0]'],
      [3, 19, 'filesystem_policy.read_write[1]'],
    ]);
  });

  test('a path in both lists is refused; nested paths are fine', () => {
    assertAt(rejectOnce(yaml('version: 1', 'filesystem_policy:', '  read_only: [/srv/app]', '  read_write: [/tmp, /srv/app/]')), 4, 22,
      'filesystem_policy.read_write[1]', 'listed in both read_only and read_write');
    const nested = accept(yaml('version: 1', 'filesystem_policy:', '  read_only: [/srv/app]', '  read_write: [/srv/app/cache]'));
    assert.deepEqual(nested.filesystem_policy.read_write, ['/srv/app/cache']);
  });

  test('at most 256 paths in total', () => {
    const paths = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `/${prefix}${i}`).join(', ');
    accept(yaml('version: 1', 'filesystem_policy:', `  read_only: [${paths(200, 'r')}]`, `  read_write: [${paths(56, 'w')}]`));
    assertAt(rejectOnce(yaml('version: 1', 'filesystem_policy:', `  read_only: [${paths(200, 'r')}]`, `  read_write: [${paths(57, 'w')}]`)), 3, 3,
      'filesystem_policy', 'at most 256 paths');
  });

  test('include_workdir must be a boolean: YAML 1.1 spellings are strings', () => {
    assertAt(rejectOnce(yaml('version: 1', 'filesystem_policy:', '  include_workdir: yes')), 3, 20,
      'filesystem_policy.include_workdir', 'expected true or false, got "yes"');
  });
});

suite('process identity', () => {
  const root: Array<[string, string]> = [
    ['run_as_user: root', 'uid 0 is refused: sandboxes never run as root'],
    ['run_as_user: "0"', 'uid 0 is refused: sandboxes never run as root'],
    ['run_as_user: 0', 'uid 0 is refused: sandboxes never run as root'],
    ['run_as_user: "000"', 'uid 0 is refused: sandboxes never run as root'],
    ['run_as_group: root', 'gid 0 is refused: sandboxes never run as root'],
    ['run_as_group: 0', 'gid 0 is refused: sandboxes never run as root'],
  ];
  for (const [field, message] of root) {
    test(`refuses ${field}`, () => {
      const d = rejectOnce(yaml('version: 1', 'process:', `  ${field}`));
      assert.equal(d.line, 3);
      assert.equal(d.column, field.indexOf(':') + 5);
      assert.equal(d.message, message);
    });
  }

  test('accepts sandbox and numeric ids, as strings', () => {
    assert.deepEqual(accept(yaml('version: 1', 'process: { run_as_user: sandbox, run_as_group: sandbox }')).process,
      { run_as_user: 'sandbox', run_as_group: 'sandbox' });
    assert.deepEqual(accept(yaml('version: 1', 'process: { run_as_user: "1500", run_as_group: 1500 }')).process,
      { run_as_user: '1500', run_as_group: '1500' });
    assert.deepEqual(accept(yaml('version: 1', 'process: { run_as_user: "4294967294" }')).process, { run_as_user: '4294967294' });
    assert.deepEqual(accept(yaml('version: 1', 'process: {}')).process, {});
  });

  test('other names, the invalid-id sentinel and negative ids are refused', () => {
    for (const value of ['nobody', '"4294967295"', '-5', '1.5', 'true']) {
      assertAt(rejectOnce(yaml('version: 1', 'process:', `  run_as_user: ${value}`)), 3, 16, 'process.run_as_user',
        'expected "sandbox" or a numeric id 1..4294967294');
    }
  });
});

suite('landlock', () => {
  test('compatibility is best_effort or hard_requirement; absent stays absent', () => {
    assert.deepEqual(accept(yaml('version: 1', 'landlock: { compatibility: best_effort }')).landlock, { compatibility: 'best_effort' });
    assert.deepEqual(accept(yaml('version: 1', 'landlock: {}')).landlock, {});
    assertAt(rejectOnce(yaml('version: 1', 'landlock:', '  compatibility: best-effort')), 3, 18, 'landlock.compatibility',
      'got "best-effort"; did you mean "best_effort"?');
  });
});

suite('inference', () => {
  test('allowed_routes is a list of names; reroute, models and token_budget are warden\'s', () => {
    assert.deepEqual(accept(yaml('version: 1', 'inference:', '  allowed_routes: [local]')).inference, { allowed_routes: ['local'] });
    assert.deepEqual(accept(yaml('version: 1', 'inference:', '  reroute: [API.OpenAI.com]', '  models: [m]', '  token_budget: 1000')).inference,
      { reroute: ['api.openai.com'], models: ['m'], token_budget: 1000 });
    const diagnostics = reject(yaml('version: 1', 'inference:', '  routes: [local]'));
    assert.equal(diagnostics.length, 1);
    assertAt(diagnostics[0]!, 3, 3, 'inference.routes', 'unknown key "routes"; did you mean "allowed_routes"?');
    assertAt(reject(yaml('version: 1', 'inference:', '  reroute: ["*.openai.com"]'))[0]!, 3, 13, 'inference.reroute[0]', 'expected an exact host name (no wildcards)');
    assertAt(reject(yaml('version: 1', 'inference:', '  token_budget: 0'))[0]!, 3, 17, 'inference.token_budget', 'expected a positive integer number of tokens');
  });
});

suite('warden sections: limits and workdir_files', () => {
  test('sizes, CPUs and process counts are read and normalised; bad values name what was expected', () => {
    const policy = parsePolicy('version: 1\nlimits:\n  memory: 1.5G\n  cpus: 0.5\n  pids: 64\n  tmp_size: 268435456\n', 'p.yaml');
    assert.deepEqual(policy.limits, { memory: 1.5 * 1024 ** 3, cpus: 0.5, pids: 64, tmp_size: 268435456 });
    assert.throws(() => parsePolicy('version: 1\nlimits:\n  memory: lots\n', 'p.yaml'), /p\.yaml:3:11: limits\.memory: expected a size such as "512M"/);
    assert.throws(() => parsePolicy('version: 1\nlimits:\n  cpus: 0\n', 'p.yaml'), /limits\.cpus: expected a number of CPUs from 0\.01 to 1024/);
    assert.throws(() => parsePolicy('version: 1\nlimits:\n  swap: 1G\n', 'p.yaml'), /p\.yaml:3:3: limits\.swap: unknown key "swap"; expected one of: memory, cpus, pids, tmp_size/);
  });

  test('workdir_files.writable takes protected names only', () => {
    assert.deepEqual(parsePolicy('version: 1\nworkdir_files:\n  writable: [.vscode/, .mcp.json]\n', 'p.yaml').workdir_files, { writable: ['.vscode', '.mcp.json'] });
    assert.throws(() => parsePolicy('version: 1\nworkdir_files:\n  writable: [src]\n', 'p.yaml'), /expected one of the protected workdir files \.git\/hooks/);
  });

  test('both are static: changing them needs a new sandbox', () => {
    const before = parsePolicy('version: 1\n', 'a.yaml');
    assert.deepEqual(staticChanges(before, parsePolicy('version: 1\nlimits: { memory: 1G }\n', 'b.yaml')), ['limits']);
    assert.deepEqual(staticChanges(before, parsePolicy('version: 1\nworkdir_files: { writable: [.envrc] }\n', 'b.yaml')), ['workdir_files']);
  });
});
