import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { HOST_GLOB, PATH_GLOB, VALUE_GLOB, compileGlob } from '../../src/policy/glob.js';
import { HostIndex, normaliseHost } from '../../src/policy/hosts.js';
import { BinaryMatcher } from '../../src/policy/binaries.js';

describe('path globs', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/repos/*', '/repos/a', true],
    ['/repos/*', '/repos/a/b', false],
    ['/repos/*', '/repos/', true],
    ['/repos/*/issues', '/repos/x/issues', true],
    ['/repos/*/issues', '/repos/x/y/issues', false],
    ['/**/info/refs*', '/org/repo.git/info/refs', true],
    ['/**/info/refs*', '/repo.git/info/refs', true],
    ['/**/info/refs*', '/info/refs', true],
    ['/**/info/refs*', '/a/info/refsX', true],
    ['/**/info/refs*', '/a/info/refs/x', false],
    ['/api/**', '/api/v1/items', true],
    ['/api/**', '/api/', true],
    ['/api/**', '/api', false],
    ['/api/**', '/apix/v1', false],
    ['/a/**/b', '/a/b', true],
    ['/a/**/b', '/a/x/y/b', true],
    ['/a/**/b', '/a/x/y/c', false],
    ['/**', '/anything/at/all', true],
    ['/v?/x', '/v1/x', true],
    ['/v?/x', '/v12/x', false],
    ['/file.json', '/file.json', true],
    ['/file.json', '/fileXjson', false],
    ['/a+b(c)', '/a+b(c)', true],
    ['/pre**', '/prefix/and/more', true],
  ];
  for (const [pattern, value, expected] of cases) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${value}`, () => {
      assert.equal(compileGlob(pattern, PATH_GLOB)(value), expected);
    });
  }
  test('value globs have no segments', () => {
    assert.equal(compileGlob('v*', VALUE_GLOB)('v1/x.y'), true);
    assert.equal(compileGlob('v*', VALUE_GLOB)('w1'), false);
  });
  test('host label globs', () => {
    const m = compileGlob('*-aiplatform.googleapis.com', HOST_GLOB);
    assert.equal(m('us-central1-aiplatform.googleapis.com'), true);
    assert.equal(m('a.b-aiplatform.googleapis.com'), false);
    const mid = compileGlob('*.s3.*.amazonaws.com', HOST_GLOB);
    assert.equal(mid('bucket.s3.us-east-1.amazonaws.com'), true);
    assert.equal(mid('bucket.s3.a.b.amazonaws.com'), false);
  });
});

describe('host normalisation', () => {
  test('lower-cases, drops one trailing dot, canonicalises IP literals', () => {
    assert.equal(normaliseHost('API.Example.COM.'), 'api.example.com');
    assert.equal(normaliseHost('[::FFFF:7f00:1]'), '::ffff:7f00:1');
    assert.equal(normaliseHost('[2001:DB8:0:0:0:0:0:1]'), '2001:db8::1');
    assert.equal(normaliseHost('10.0.0.1'), '10.0.0.1');
  });
  test('refuses what is not a host name', () => {
    for (const bad of ['', 'a..b', '-a.com', 'a b.com', 'exa$mple.com', 'x'.repeat(64) + '.com', 'fe80::1%eth0', '[not-ip]', 'é.com']) {
      assert.equal(normaliseHost(bad), null, bad);
    }
  });
});

describe('host index', () => {
  const idx = new HostIndex<string>();
  idx.add('example.com', 'exact');
  idx.add('*.example.com', 'one');
  idx.add('**.deep.org', 'any');
  idx.add('*-ai.googleapis.com', 'glob');
  idx.add('Upper.Case.NET.', 'upper');

  const lookup = (h: string): string[] => [...idx.lookup(normaliseHost(h)!)].sort();
  test('exact names', () => {
    assert.deepEqual(lookup('example.com'), ['exact']);
    assert.deepEqual(lookup('EXAMPLE.com.'), ['exact']);
    assert.deepEqual(lookup('upper.case.net'), ['upper']);
    assert.deepEqual(lookup('example.org'), []);
  });
  test('*. matches exactly one extra label', () => {
    assert.deepEqual(lookup('api.example.com'), ['one']);
    assert.deepEqual(lookup('a.b.example.com'), []);
    assert.deepEqual(lookup('example.com'), ['exact']); // not via *.
  });
  test('**. matches any depth but not the apex (OpenShell semantics)', () => {
    assert.deepEqual(lookup('a.deep.org'), ['any']);
    assert.deepEqual(lookup('a.b.c.deep.org'), ['any']);
    assert.deepEqual(lookup('deep.org'), []);
    assert.deepEqual(lookup('notdeep.org'), []);
  });
  test('label globs', () => {
    assert.deepEqual(lookup('us-ai.googleapis.com'), ['glob']);
    assert.deepEqual(lookup('x.us-ai.googleapis.com'), []);
  });
});

describe('binary matching', () => {
  const m = new BinaryMatcher([{ path: '/usr/bin/curl' }, { path: '/usr/lib/git-core/*' }, { path: '/opt/**/bin/tool' }, { path: 'relative/ignored' }]);
  test('exact and glob paths', () => {
    assert.equal(m.match('/usr/bin/curl'), '/usr/bin/curl');
    assert.equal(m.match('/usr/bin/curl2'), null);
    assert.equal(m.match('/usr/lib/git-core/git-remote-https'), '/usr/lib/git-core/*');
    assert.equal(m.match('/usr/lib/git-core/sub/x'), null);
    assert.equal(m.match('/opt/a/b/bin/tool'), '/opt/**/bin/tool');
    assert.equal(m.match('relative/ignored'), null);
  });
  test('a deleted executable never matches', () => {
    assert.equal(m.match('/usr/bin/curl (deleted)'), null);
    assert.equal(new BinaryMatcher([{ path: '/**' }]).match('/tmp/x (deleted)'), null);
  });
});

test('a symbolic link in binaries matches the file it points to, as docs/network.md says (issue 11)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-binlink-'));
  try {
    writeFileSync(path.join(dir, 'python3.11'), '');
    symlinkSync('python3.11', path.join(dir, 'python3'));
    const m = new BinaryMatcher([{ path: path.join(dir, 'python3') }]);
    assert.equal(m.match(path.join(dir, 'python3.11')), path.join(dir, 'python3'), 'reported as the path the policy wrote');
    assert.equal(new BinaryMatcher([{ path: path.join(dir, 'pip') }]).match(path.join(dir, 'python3.11')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
