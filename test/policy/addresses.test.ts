import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIp, parseIp } from '../../src/policy/addresses.js';
import { checkAddress, checkResolution, classifyAddress, compileAllowedIps } from '../../src/policy/addresses.js';

describe('IP parsing', () => {
  test('round-trips canonical text', () => {
    for (const [input, canonical] of [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:DB8::0:1', '2001:db8::1'],
      ['::ffff:127.0.0.1', '::ffff:7f00:1'],
      ['[fe80::1]', 'fe80::1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ]) {
      const ip = parseIp(input!);
      assert.ok(ip, input);
      assert.equal(formatIp(ip), canonical);
    }
    assert.equal(parseIp('127.1'), null);
    assert.equal(parseIp('example.com'), null);
  });
});

describe('address classification', () => {
  const expect: Array<[string, string | null]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::abcd', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', null],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', null],
    ['2606:4700::1111', null],
    // IPv6 forms that carry an internal IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['::ffff:8.8.8.8', null],
  ];
  for (const [addr, category] of expect) {
    test(`${addr} is ${category ?? 'public'}`, () => assert.equal(classifyAddress(addr), category));
  }
});

describe('allowed_ips', () => {
  const none = compileAllowedIps(undefined);
  test('without allowed_ips: public addresses only', () => {
    assert.equal(checkAddress('93.184.216.34', none).ok, true);
    assert.equal(checkAddress('10.0.0.5', none).ok, false);
    assert.equal(checkAddress('127.0.0.1', none).ok, false);
  });
  test('allowed_ips opens the addresses it covers (CIDR or exact) and restricts to them', () => {
    assert.equal(checkAddress('10.0.0.5', compileAllowedIps(['10.0.0.0/24'])).ok, true);
    assert.equal(checkAddress('10.0.1.5', compileAllowedIps(['10.0.0.0/24'])).ok, false);
    assert.equal(checkAddress('10.0.0.5', compileAllowedIps(['10.0.0.5'])).ok, true);
    assert.equal(checkAddress('::ffff:10.0.0.5', compileAllowedIps(['10.0.0.5'])).ok, true);
    assert.equal(checkAddress('fd00::5', compileAllowedIps(['fd00::/64'])).ok, true);
    // a public address outside the list is refused too: the list restricts the host
    assert.equal(checkAddress('93.184.216.34', compileAllowedIps(['10.0.0.0/8'])).ok, false);
    assert.equal(checkAddress('93.184.216.34', compileAllowedIps(['93.184.216.0/24'])).ok, true);
  });
  test('loopback only when named exactly, never through a wider CIDR', () => {
    assert.equal(checkAddress('127.0.0.1', compileAllowedIps(['127.0.0.0/8'])).ok, false);
    assert.equal(checkAddress('127.0.0.1', compileAllowedIps(['0.0.0.0/0'])).ok, false);
    assert.equal(checkAddress('127.0.0.1', compileAllowedIps(['127.0.0.2'])).ok, false);
    assert.equal(checkAddress('127.0.0.1', compileAllowedIps(['127.0.0.1'])).ok, true);
    assert.equal(checkAddress('127.0.0.1', compileAllowedIps(['127.0.0.1/32'])).ok, true);
    assert.equal(checkAddress('::ffff:127.0.0.1', compileAllowedIps(['127.0.0.1'])).ok, true);
    assert.equal(checkAddress('::1', compileAllowedIps(['::/0'])).ok, false);
    assert.equal(checkAddress('::1', compileAllowedIps(['::1'])).ok, true);
  });
  test('link-local (metadata) and unspecified addresses are never allowed', () => {
    assert.equal(checkAddress('169.254.169.254', compileAllowedIps(['169.254.169.254'])).ok, false);
    assert.equal(checkAddress('169.254.169.254', compileAllowedIps(['169.254.0.0/16'])).ok, false);
    assert.equal(checkAddress('::ffff:169.254.169.254', compileAllowedIps(['0.0.0.0/0'])).ok, false);
    assert.equal(checkAddress('fe80::1', compileAllowedIps(['fe80::/10'])).ok, false);
    assert.equal(checkAddress('0.0.0.0', compileAllowedIps(['0.0.0.0'])).ok, false);
  });
  test('a mixed answer is refused as a whole', () => {
    assert.equal(checkResolution(['93.184.216.34', '10.0.0.5'], [none]).ok, false);
    assert.equal(checkResolution([], [none]).ok, false);
    const ok = checkResolution(['93.184.216.34', '::ffff:93.184.216.34'], [none]);
    assert.deepEqual(ok, { ok: true, addresses: ['93.184.216.34'] });
  });
  test('with several matching endpoints, an address passes when one of them accepts it', () => {
    const privateOnly = compileAllowedIps(['10.0.0.0/8']);
    const other = compileAllowedIps(['192.168.0.0/16']);
    assert.equal(checkResolution(['93.184.216.34'], [privateOnly]).ok, false);
    assert.equal(checkResolution(['10.1.1.1', '192.168.1.1'], [privateOnly, other]).ok, true);
    assert.equal(checkResolution(['10.1.1.1', '127.0.0.1'], [privateOnly, other]).ok, false);
  });
  test('an endpoint without allowed_ips never widens what an overlapping one with allowed_ips admits', () => {
    // OpenShell: a public address outside allowed_ips stays refused when a glob endpoint without
    // allowed_ips also matches the name.
    const privateOnly = compileAllowedIps(['10.0.0.0/8']);
    assert.equal(checkResolution(['93.184.216.34'], [privateOnly, none]).ok, false);
    assert.equal(checkResolution(['10.1.1.1', '93.184.216.34'], [privateOnly, none]).ok, false);
    assert.equal(checkResolution(['10.1.1.1'], [none, privateOnly]).ok, true);
  });
});
