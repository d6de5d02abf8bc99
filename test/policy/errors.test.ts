import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { loadPolicyFile, parsePolicy, PolicyError } from '../../src/policy/loader.js';
import { accept, assertAt, fixture, reject, rejectOnce, yaml } from './helpers.js';

suite('policy errors: location, path and message', () => {
  test('a wrong port value points at the value and says what was expected and found', () => {
    const text = yaml(
      'version: 1',
      'network_policies:',
      '  npm:',
      '    endpoints:',
      '      - host: registry.npmjs.org',
      '        port: https',
    );
    try {
      parsePolicy(text, 'p.yaml');
      assert.fail('a port of "https" must be rejected');
    } catch (error) {
      assert.ok(error instanceof PolicyError);
      assert.equal(error.name, 'PolicyError');
      assert.deepEqual(error.diagnostics, [{
        file: 'p.yaml', line: 6, column: 15, path: 'network_policies.npm.endpoints[0].port',
        message: 'expected an integer 1..65535, got "https"',
      }]);
      assert.equal(error.format(), 'p.yaml:6:15: network_policies.npm.endpoints[0].port: expected an integer 1..65535, got "https"');
      assert.ok(error.message.includes(error.format()));
    }
  });

  test('an unknown key points at the key and suggests the nearest allowed key', () => {
    const d = rejectOnce(yaml(
      'version: 1',
      'network_policies:',
      '  npm:',
      '    nmae: npm',
      '    endpoints: []',
    ));
    assertAt(d, 4, 5, 'network_policies.npm.nmae', 'unknown key "nmae"; did you mean "name"?');
  });

  test('an unknown key far from every allowed key lists the allowed keys instead', () => {
    const d = rejectOnce(yaml('version: 1', 'flavour: strict'));
    assertAt(d, 2, 1, 'flavour', 'unknown key "flavour"; expected one of: version, filesystem_policy, landlock, process, network_policies');
    assert.ok(!d.message.includes('did you mean'));
  });

  test('did-you-mean works at every level, including endpoint and filesystem keys', () => {
    const diagnostics = reject(yaml(
      'version: 1',
      'filesystem_policy:',
      '  include_workdr: true',
      'proces:',
      '  run_as_user: sandbox',
      'network_policies:',
      '  a:',
      '    endpoints:',
      '      - host: a.example.com',
      '        port: 443',
      '        protocl: rest',
    ));
    assert.equal(diagnostics.length, 3);
    assertAt(diagnostics[0]!, 3, 3, 'filesystem_policy.include_workdr', 'did you mean "include_workdir"?');
    assertAt(diagnostics[1]!, 4, 1, 'proces', 'did you mean "process"?');
    assertAt(diagnostics[2]!, 11, 9, 'network_policies.a.endpoints[0].protocl', 'did you mean "protocol"?');
  });

  test('an enum value typo gets a suggestion too', () => {
    const d = rejectOnce(yaml(
      'version: 1',
      'network_policies:',
      '  a:',
      '    endpoints:',
      '      - host: a.example.com',
      '        port: 443',
      '        protocol: reset',
      '        access: full',
    ));
    assertAt(d, 7, 19, 'network_policies.a.endpoints[0].protocol', 'got "reset"; did you mean "rest"?');
  });

  test('a missing required key points at the mapping that lacks it', () => {
    const d = rejectOnce(yaml(
      'version: 1',
      'network_policies:',
      '  a:',
      '    endpoints:',
      '      - port: 443',
    ));
    assertAt(d, 5, 9, 'network_policies.a.endpoints[0]', 'missing required key "host" (expected a host name, or allowed_ips');
  });

  test('a missing version is reported at the top of the file', () => {
    const d = rejectOnce(yaml('network_policies: {}'));
    assertAt(d, 1, 1, '', 'missing required key "version" (expected the integer 1)');
  });

  test('version must be the integer 1, not 2 and not the string "1"', () => {
    assertAt(rejectOnce('version: 2\n'), 1, 10, 'version', 'expected the integer 1, got 2');
    assertAt(rejectOnce('version: "1"\n'), 1, 10, 'version', 'expected the integer 1, got "1"');
    assert.equal(parsePolicy('version: 1\n', 'p.yaml').version, 1);
  });

  test('a key written without a value is reported at the key', () => {
    const d = rejectOnce(yaml('version: 1', 'network_policies:'));
    assertAt(d, 2, 1, 'network_policies', 'expected a mapping, got nothing (null)');
  });

  test('duplicate keys are errors, at the second occurrence, at any depth', () => {
    const diagnostics = reject(yaml(
      'version: 1',
      'network_policies:',
      '  a:',
      '    endpoints:',
      '      - host: a.example.com',
      '        port: 443',
      '        port: 8443',
      '  a: {}',
    ));
    assert.equal(diagnostics.length, 2);
    assertAt(diagnostics[0]!, 7, 9, 'network_policies.a.endpoints[0].port', 'duplicate key "port"');
    assertAt(diagnostics[1]!, 8, 3, 'network_policies.a', 'duplicate key "a"');
  });

  test('a duplicate top-level key is an error even with equal values', () => {
    assertAt(rejectOnce(yaml('version: 1', 'version: 1')), 2, 1, 'version', 'duplicate key "version"');
  });

  test('every problem in a file is collected, in file order', () => {
    const diagnostics = reject(yaml(
      'version: 1',
      'filesystem_policy:',
      '  read_only: [/usr, lib, /a/../b]',
      'process:',
      '  run_as_user: root',
      'network_policies:',
      '  registry:',
      '    endpoints:',
      '      - host: "*"',
      '        port: 70000',
      '      - host: ok.example.com',
      '        ports: []',
      'governance:',
      '  trust: { initial: 1001 }',
    ));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [3, 21, 'filesystem_policy.read_only[1]'],
      [3, 26, 'filesystem_policy.read_only[2]'],
      [5, 16, 'process.run_as_user'],
      [9, 15, 'network_policies.registry.endpoints[0].host'],
      [10, 15, 'network_policies.registry.endpoints[0].port'],
      [12, 16, 'network_policies.registry.endpoints[1].ports'],
      [14, 21, 'governance.trust.initial'],
    ]);
  });

  test('loadPolicyFile names the file in every diagnostic', () => {
    const file = fixture('invalid-several.yaml');
    assert.throws(() => loadPolicyFile(file), (error: unknown) => {
      assert.ok(error instanceof PolicyError);
      assert.equal(error.diagnostics.length, 4);
      assert.ok(error.diagnostics.every((d) => d.file === file));
      assert.deepEqual(error.format().split('\n'), [
        `${file}:3:21: filesystem_policy.read_only[1]: expected an absolute path (starting with "/"), got "lib"`,
        `${file}:5:16: process.run_as_user: uid 0 is refused: sandboxes never run as root`,
        `${file}:9:15: network_policies.registry.endpoints[0].host: "*.test" covers a whole top-level domain: a wildcard needs at least two labels after it, as in "*.example.test"`,
        `${file}:10:15: network_policies.registry.endpoints[0].port: expected an integer 1..65535, got "https"`,
      ]);
      return true;
    });
  });

  test('a file that cannot be read is an ordinary error with a code, not a PolicyError', () => {
    assert.throws(() => loadPolicyFile(fixture('does-not-exist.yaml')), (error: unknown) => {
      assert.ok(!(error instanceof PolicyError));
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });
  });

  test('nothing is half-applied: one bad endpoint among good ones rejects the whole file', () => {
    const good = yaml(
      'version: 1',
      'network_policies:',
      '  good:',
      '    endpoints: [{ host: good.example.com, port: 443 }]',
      '  bad:',
      '    endpoints: [{ host: bad.example.com, port: 0 }]',
    );
    const diagnostics = reject(good);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.path, 'network_policies.bad.endpoints[0].port');
    assert.equal(accept(good.replace('port: 0', 'port: 1')).network_policies.bad?.endpoints[0]?.ports[0], 1);
  });

  test('keys that are not plain words are quoted in the path', () => {
    const d = rejectOnce(yaml(
      'version: 1',
      'network_policies:',
      '  "api.example v2":',
      '    endpoints: [{ host: a.example.com, port: x }]',
    ));
    assert.equal(d.path, 'network_policies["api.example v2"].endpoints[0].port');
  });
});

suite('policy errors: YAML itself', () => {
  test('a syntax error gives its line and column and no schema noise', () => {
    const d = rejectOnce(yaml('version: 1', 'network_policies:', '\ta: {}'));
    assertAt(d, 3, 1, '', 'YAML syntax: Tabs are not allowed as indentation');
  });

  test('an unterminated quote is located', () => {
    const diagnostics = reject(yaml('version: 1', 'network_policies:', '  a:', '    name: "abc'));
    assert.ok(diagnostics.length >= 1);
    assert.ok(diagnostics.every((d) => d.message.startsWith('YAML syntax: ')));
    assert.match(diagnostics[0]!.message, /quote/i);
  });

  test('several documents in one file are refused', () => {
    assertAt(rejectOnce(yaml('version: 1', '---', 'version: 1')), 2, 1, '', 'multiple documents');
  });

  test('unknown tags are refused rather than guessed', () => {
    assertAt(rejectOnce('version: !custom 1\n'), 1, 10, '', 'Unresolved tag');
  });

  test('an empty document and a non-mapping top level are refused', () => {
    assertAt(rejectOnce(''), 1, 1, '', 'got an empty document');
    assertAt(rejectOnce('# only a comment\n'), 1, 1, '', 'got an empty document');
    assertAt(rejectOnce('- version: 1\n'), 1, 1, '', 'expected a mapping with "version: 1" at the top level, got a list');
  });

  test('a mapping used as a key is refused', () => {
    assertAt(rejectOnce(yaml('version: 1', '? [a, b]', ': c')), 2, 3, '', 'got a mapping or list used as a key');
  });

  test('the __proto__ key is refused everywhere', () => {
    const d = rejectOnce(yaml('version: 1', 'network_policies:', '  __proto__: { endpoints: [] }'));
    assertAt(d, 3, 3, 'network_policies.__proto__', 'not allowed');
    assert.equal((Object.prototype as Record<string, unknown>).endpoints, undefined);
  });

  test('YAML merge keys are not expanded: "<<" is an unknown key', () => {
    const d = rejectOnce(yaml(
      'version: 1',
      'network_policies:',
      '  a:',
      '    endpoints:',
      '      - &base { host: a.example.com, port: 443 }',
      '      - <<: *base',
      '        host: b.example.com',
      '        port: 443',
    ));
    assertAt(d, 6, 9, 'network_policies.a.endpoints[1]["<<"]', 'unknown key "<<"');
  });

  test('plain aliases are expanded, but an alias explosion is refused', () => {
    const shared = accept(yaml(
      'version: 1',
      'network_policies:',
      '  a: { endpoints: [{ host: a.example.com, port: 443 }], binaries: &bins [{ path: /usr/bin/curl }] }',
      '  b: { endpoints: [{ host: b.example.com, port: 443 }], binaries: *bins }',
    ));
    assert.deepEqual(shared.network_policies.b?.binaries, [{ path: '/usr/bin/curl' }]);
    const bomb = yaml(
      'version: 1',
      'x1: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      'x2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'x3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'x4: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    );
    const d = reject(bomb);
    assert.ok(d.some((diagnostic) => /alias|resource/i.test(diagnostic.message)), JSON.stringify(d));
  });

  test('a file over 4 MiB is refused before parsing', () => {
    const big = 'version: 1\n' + '#'.repeat(4 * 1024 * 1024) + '\n';
    assertAt(rejectOnce(big), 1, 1, '', 'at most 4194304 bytes');
  });
});

suite('upstream_ca (warden only)', () => {
  const endpoint = (...lines: string[]) => yaml(
    'version: 1',
    'network_policies:',
    '  corp:',
    '    endpoints:',
    '      - host: registry.corp.example',
    '        port: 443',
    ...lines.map((line) => `        ${line}`),
    '    binaries: [{ path: /usr/bin/npm }]',
  );

  test('loads on an inspected endpoint, kept as written', () => {
    const policy = accept(endpoint('protocol: rest', 'access: read-only', 'upstream_ca: /etc/warden/corp-ca.pem'));
    assert.equal(policy.network_policies.corp!.endpoints[0]!.upstream_ca, '/etc/warden/corp-ca.pem');
  });

  test('is refused on a tunnel, with tls: skip, and as a relative path', () => {
    assert.match(rejectOnce(endpoint('upstream_ca: /etc/warden/corp-ca.pem')).message, /needs an inspected endpoint/);
    assert.match(rejectOnce(endpoint('protocol: rest', 'access: read-only', 'tls: skip', 'upstream_ca: /etc/warden/corp-ca.pem')).message, /cannot be combined with tls "skip"/);
    assert.match(rejectOnce(endpoint('protocol: rest', 'access: read-only', 'upstream_ca: corp-ca.pem')).message, /absolute path/);
  });
});
