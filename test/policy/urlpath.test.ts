import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_PATH_BYTES, normaliseTarget, targetToForward } from '../../src/policy/urlpath.js';

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
  test('decodes every escape and writes back what is not a path character', () => {
    assert.equal(path('/%61%62%63/%7euser'), '/abc/~user');
    assert.equal(path('/users/%40alice'), '/users/@alice');
    assert.equal(path('/a%20b'), '/a%20b');
    assert.equal(path('/a%3fb'), '/a%3Fb');
    assert.equal(path('/a%25b'), '/a%25b');
    assert.equal(path('/caf%c3%a9'), '/caf%C3%A9');
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
  test(';params are cut from every segment, for the rules and on the wire', () => {
    assert.equal(path('/admin;jsessionid=1/x;y'), '/admin/x');
    assert.equal(path('/a;x'), '/a');
    assert.equal(path('/a/;x/b'), '/a/b');
    const r = normaliseTarget('/a;jsessionid=xyz/b?q=1');
    assert.ok(r.ok);
    assert.equal(targetToForward(r), '/a/b?q=1');
  });
  test('"..;" in every spelling is a "..", never forwarded as it was written', () => {
    // Servers that treat ";" as a separator would see "..": the proxy resolves it first.
    for (const dots of ['..;', '..;x', '..;jsessionid=x', '%2e%2e;', '..%3B', '..%3b', '%2E%2E%3Bx']) {
      assert.equal(path(`/public/${dots}/secret`), '/secret', dots);
    }
    assert.equal(path('/public/.;/secret'), '/public/secret');
    assert.equal(path('/public/.;x/secret'), '/public/secret');
  });
  test('chains of "..;" that climb above the root are refused', () => {
    assert.match(refused('/public/..;/..;/secret'), /above the root/);
    assert.match(refused('/api/v1/..;/..;/..;/admin/keys'), /above the root/);
    assert.match(refused('/..;'), /above the root/);
    assert.match(refused('/a/..%3B/..%3b'), /above the root/);
  });
  test('with allow_encoded_slash a dot segment behind an encoded slash is still refused', () => {
    assert.match(refused('/public/..%2fsecret', true), /encoded slash/);
    assert.match(refused('/public/..%2f..%2fsecret', true), /encoded slash/);
    assert.match(refused('/public/.%2fsecret', true), /encoded slash/);
    assert.match(refused('/public/a%2f..', true), /encoded slash/);
    assert.equal(path('/public/a..b%2fc.d', true), '/public/a..b%2Fc.d');
  });
  test('control bytes are refused, raw or encoded', () => {
    for (const bad of ['/a%0Ab', '/a%0db', '/a%09b', '/a%7Fb', '/a%1fb', '/a\nb', '/a\x7fb', '/a\tb']) {
      assert.match(refused(bad), /control character/, JSON.stringify(bad));
    }
  });
  test('paths over the length limit are refused', () => {
    assert.equal(path(`/${'a'.repeat(MAX_PATH_BYTES - 1)}`).length, MAX_PATH_BYTES);
    assert.match(refused(`/${'a'.repeat(MAX_PATH_BYTES)}`), /longer than/);
  });
});
