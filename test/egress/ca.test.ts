import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import * as der from '../../src/egress/der.js';
import { createSandboxCA, loadSandboxCA } from '../../src/egress/ca.js';

describe('DER encoder', () => {
  test('lengths, integers, OIDs and bit strings', () => {
    assert.equal(der.integer(0).toString('hex'), '020100');
    assert.equal(der.integer(127).toString('hex'), '02017f');
    assert.equal(der.integer(128).toString('hex'), '02020080');
    assert.equal(der.integer(256).toString('hex'), '02020100');
    assert.equal(der.oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.equal(der.oid('2.5.29.17').toString('hex'), '0603551d11');
    assert.equal(der.octetString(Buffer.alloc(200)).subarray(0, 3).toString('hex'), '0481c8');
    assert.equal(der.octetString(Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
    // keyCertSign(5) + cRLSign(6): one unused bit
    assert.equal(der.namedBits([5, 6]).toString('hex'), '03020106');
    assert.equal(der.namedBits([0]).toString('hex'), '03020780');
    assert.equal(der.time(new Date(Date.UTC(2030, 0, 2, 3, 4, 5))).toString('ascii', 2), '300102030405Z');
    assert.equal(der.time(new Date(Date.UTC(2051, 0, 2, 3, 4, 5))).toString('ascii', 2), '20510102030405Z');
  });
  test('reader walks what the encoder wrote', () => {
    const s = der.sequence(der.integer(5), der.utf8String('hé'));
    const kids = der.children(der.readElement(s));
    assert.equal(kids.length, 2);
    assert.equal(kids[1]!.content.toString('utf8'), 'hé');
  });
});

describe('sandbox CA', () => {
  const ca = createSandboxCA({ name: 'unit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-ca-'));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('CA certificate parses and is a CA with a P-256 key', () => {
    const x = new crypto.X509Certificate(ca.certPem);
    assert.equal(x.ca, true);
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x.verify(x.publicKey), true);
    assert.match(x.subject, /warden sandbox CA unit/);
  });

  test('leaf for a DNS name: SAN, signature, issuer, not a CA', () => {
    const leaf = ca.leafFor('API.Example.com.');
    const x = new crypto.X509Certificate(leaf.cert);
    const caX = new crypto.X509Certificate(ca.certPem);
    assert.equal(x.ca, false);
    assert.equal(x.subjectAltName, 'DNS:api.example.com');
    assert.equal(x.checkIssued(caX), true);
    assert.equal(x.verify(caX.publicKey), true);
    assert.equal(x.checkHost('api.example.com'), 'api.example.com');
    assert.equal(x.checkHost('other.example.com'), undefined);
    assert.equal(x.checkPrivateKey(crypto.createPrivateKey(leaf.key)), true);
    assert.strictEqual(ca.leafFor('api.example.com').cert, leaf.cert, 'cached');
  });

  test('leaf for IP literals and long names', () => {
    assert.equal(new crypto.X509Certificate(ca.leafFor('10.1.2.3').cert).subjectAltName, 'IP Address:10.1.2.3');
    assert.match(new crypto.X509Certificate(ca.leafFor('[2001:db8::1]').cert).subjectAltName ?? '', /IP Address:2001:DB8:0:0:0:0:0:1/i);
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    const x = new crypto.X509Certificate(ca.leafFor(long).cert);
    assert.equal(x.subjectAltName, `DNS:${long}`);
    assert.ok(!x.subject, 'no common name: the name is too long for one');
    fs.writeFileSync(path.join(dir, 'ca-long.pem'), ca.certPem);
    fs.writeFileSync(path.join(dir, 'long.pem'), ca.leafFor(long).cert);
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', path.join(dir, 'ca-long.pem'), path.join(dir, 'long.pem')]).toString();
    assert.match(out, /OK/);
  });

  test('openssl verify accepts the chain', () => {
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    fs.writeFileSync(path.join(dir, 'leaf.pem'), ca.leafFor('svc.test').cert);
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')]).toString();
    assert.match(out, /leaf\.pem: OK/);
    // and refuses it against an unrelated CA
    fs.writeFileSync(path.join(dir, 'other.pem'), createSandboxCA().certPem);
    assert.throws(() => execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'other.pem'), path.join(dir, 'leaf.pem')], { stdio: 'pipe' }));
  });

  test('a TLS client that trusts the CA completes a handshake; one that does not, fails', async () => {
    const leaf = ca.leafFor('svc.test');
    const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const get = (trust: string): Promise<string> =>
      new Promise((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, servername: 'svc.test', ca: trust, path: '/', agent: false }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      assert.equal(await get(ca.certPem), 'ok');
      await assert.rejects(get(createSandboxCA().certPem), /certificate/);
    } finally {
      server.close();
    }
  });

  test('loadSandboxCA issues leaves that chain to the stored CA; refuses a wrong key', () => {
    const again = loadSandboxCA({ certPem: ca.certPem, keyPem: ca.keyPem });
    const x = new crypto.X509Certificate(again.leafFor('x.test').cert);
    assert.equal(x.checkIssued(new crypto.X509Certificate(ca.certPem)), true);
    assert.equal(x.verify(new crypto.X509Certificate(ca.certPem).publicKey), true);
    assert.throws(() => loadSandboxCA({ certPem: ca.certPem, keyPem: createSandboxCA().keyPem }), /does not belong/);
    assert.throws(() => loadSandboxCA({ certPem: ca.leafFor('y.test').cert, keyPem: ca.leafFor('y.test').key }), /not a CA/);
  });

  test('leaves are re-issued before they expire', () => {
    let now = Date.now();
    const timed = createSandboxCA({ leafValidityDays: 10, now: () => new Date(now) });
    const first = timed.leafFor('t.test').cert;
    now += 5 * 86_400_000;
    assert.equal(timed.leafFor('t.test').cert, first);
    now += 4 * 86_400_000;
    assert.notEqual(timed.leafFor('t.test').cert, first);
  });

  test('tls secure context accepts the leaf', () => {
    const leaf = ca.leafFor('ctx.test');
    assert.doesNotThrow(() => tls.createSecureContext({ key: leaf.key, cert: leaf.cert }));
  });
});
