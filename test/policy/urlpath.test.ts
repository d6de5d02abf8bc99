import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normaliseTarget, stripMatrixParams, targetToForward } from '../../src/policy/urlpath.js';

function path(target: string, allowSlash = false): string {
  const r = normaliseTarget(target, allowSlash);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.path;
}
function refused(target: string, allowSlash = false): string {
  const r = normaliseTarget(target, allowSlash);
  assert.equal(r.ok, false, `${target} should be refused`);
  return r.ok ? '' : r.reason;
}

describe('request path normalisation', () => {
  test('decodes unreserved characters only', () => {
    assert.equal(path('/%61%62%63/%7euser'), '/abc/~user');
    assert.equal(path('/a%20b'), '/a%20b');
    assert.equal(path('/a%3fb'), '/a%3Fb');
  });
  test('resolves dot segments, also when encoded', () => {
    assert.equal(path('/a/./b/../c'), '/a/c');
    assert.equal(path('/a/%2e%2E/b'), '/b');
    assert.equal(path('/a/b/..'), '/a/');
    assert.equal(path('/.'), '/');
  });
  test('refuses .. that climbs above the root', () => {
    assert.match(refused('/../etc/passwd'), /above the root/);
    assert.match(refused('/a/../../b'), /above the root/);
    assert.match(refused('/%2e%2e/x'), /above the root/);
  });
  test('collapses empty segments and keeps a trailing slash', () => {
    assert.equal(path('//admin//x'), '/admin/x');
    assert.equal(path('/a/b/'), '/a/b/');
  });
  test('encoded slashes only with allow_encoded_slash', () => {
    assert.match(refused('/group%2Fproject'), /allow_encoded_slash/);
    assert.match(refused('/group%2fproject'), /allow_encoded_slash/);
    assert.equal(path('/group%2fproject', true), '/group%2Fproject');
  });
  test('refuses backslashes, NUL, bad escapes and raw junk', () => {
    refused('/a%5cb');
    refused('/a%00b');
    refused('/a%zzb');
    refused('/a%4');
    refused('/a\\b');
    refused('/a b');
    refused('relative');
    refused('/a#frag');
  });
  test('parses the query: + is a space, keys repeat, percent-escapes decode', () => {
    const r = normaliseTarget('/s?q=a+b&tag=x&tag=y%26z&flag');
    assert.ok(r.ok);
    assert.deepEqual(r.query.get('q'), ['a b']);
    assert.deepEqual(r.query.get('tag'), ['x', 'y&z']);
    assert.deepEqual(r.query.get('flag'), ['']);
    assert.equal(targetToForward(r), '/s?q=a+b&tag=x&tag=y%26z&flag');
    assert.equal(normaliseTarget('/s?q=%E0%A4%A').ok, false);
  });
  test('matrix parameters can be stripped for deny checks', () => {
    assert.equal(stripMatrixParams('/admin;jsessionid=1/x;y'), '/admin/x');
  });
});
