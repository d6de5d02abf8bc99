// The per-sandbox certificate authority used to terminate TLS on inspected endpoints.
// Keys are EC P-256 from node:crypto; certificates are assembled with our DER encoder and
// signed with crypto.sign, so no X.509 library is needed.

import crypto from 'node:crypto';
import * as der from './der.js';
import { parseIp } from '../policy/index.js';
import type { SandboxCA } from './types.js';

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
const DAY_MS = 86_400_000;

export interface SandboxCAOptions {
  /** Shown in the CA's subject; usually the sandbox name. */
  name?: string;
  /** CA lifetime; default 3650 days. */
  validityDays?: number;
  /** Leaf lifetime; default 30 days. Leaves are re-issued before they expire. */
  leafValidityDays?: number;
  /** Most leaves kept in memory; default 4096. */
  maxCachedLeaves?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

interface Signer {
  key: crypto.KeyObject;
  algorithm: der.Der;
  /** Digest name for crypto.sign. */
  digest: string;
}

function signerFor(key: crypto.KeyObject): Signer {
  if (key.asymmetricKeyType === 'ec') return { key, algorithm: der.sequence(der.oid(OID.ecdsaWithSha256)), digest: 'sha256' };
  if (key.asymmetricKeyType === 'rsa') return { key, algorithm: der.sequence(der.oid(OID.sha256WithRsa), der.nullValue()), digest: 'sha256' };
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

function name(parts: Array<[string, string]>): der.Der {
  return der.sequence(...parts.map(([type, value]) => der.setOf(der.sequence(der.oid(type), der.utf8String(value)))));
}

function extension(id: string, critical: boolean, value: der.Der): der.Der {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** RFC 5280 key identifier, method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = der.readElement(spkiDer);
  const bits = der.children(spki)[1];
  if (!bits || bits.tag !== 0x03) throw new Error('malformed SubjectPublicKeyInfo');
  return crypto.createHash('sha1').update(bits.content.subarray(1)).digest();
}

function serialNumber(): der.Der {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, non-zero, full length
  return der.integerFromBytes(bytes);
}

interface CertificateFields {
  issuer: der.Der;
  subject: der.Der;
  notBefore: Date;
  notAfter: Date;
  publicKey: crypto.KeyObject;
  extensions: der.Der[];
  signer: Signer;
}

function issue(f: CertificateFields): string {
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // v3
    serialNumber(),
    f.signer.algorithm,
    f.issuer,
    der.sequence(der.time(f.notBefore), der.time(f.notAfter)),
    f.subject,
    f.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...f.extensions)),
  );
  const signature = crypto.sign(f.signer.digest, tbs, f.signer.key);
  const cert = der.sequence(tbs, f.signer.algorithm, der.bitString(signature));
  return toPem('CERTIFICATE', cert);
}

function toPem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

function newKeyPair(): { publicKey: crypto.KeyObject; privateKey: crypto.KeyObject } {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** Fields of an existing CA certificate needed to issue leaves under it. */
function readIssuer(certDer: Buffer): { subject: der.Der; keyId: Buffer | null } {
  const tbs = der.children(der.readElement(certDer))[0];
  if (!tbs) throw new Error('malformed certificate');
  const fields = der.children(tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
  const subject = fields[offset + 4];
  if (!subject) throw new Error('malformed certificate: no subject');
  let keyId: Buffer | null = null;
  const extsWrapper = fields.find((f) => f.tag === 0xa3);
  if (extsWrapper) {
    const exts = der.children(der.children(extsWrapper)[0]!);
    const skiOid = der.oid(OID.subjectKeyIdentifier);
    for (const ext of exts) {
      const parts = der.children(ext);
      if (parts[0] && parts[0].raw.equals(skiOid)) {
        const value = parts[parts.length - 1]!;
        keyId = der.readElement(value.content).content;
      }
    }
  }
  return { subject: Buffer.from(subject.raw), keyId };
}

interface CachedLeaf {
  cert: string;
  key: string;
  renewAt: number;
}

class CertificateAuthority implements SandboxCA {
  private readonly leaves = new Map<string, CachedLeaf>();
  private readonly signer: Signer;

  constructor(
    readonly certPem: string,
    readonly keyPem: string,
    private readonly issuerName: der.Der,
    private readonly issuerKeyId: Buffer,
    private readonly options: Required<Pick<SandboxCAOptions, 'leafValidityDays' | 'maxCachedLeaves' | 'now'>>,
  ) {
    this.signer = signerFor(crypto.createPrivateKey(keyPem));
  }

  leafFor(host: string): { cert: string; key: string } {
    const h = host.trim().toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
    const now = this.options.now().getTime();
    const cached = this.leaves.get(h);
    if (cached && cached.renewAt > now) return { cert: cached.cert, key: cached.key };
    const leaf = this.issueLeaf(h, now);
    this.leaves.delete(h);
    this.leaves.set(h, leaf);
    if (this.leaves.size > this.options.maxCachedLeaves) {
      const oldest = this.leaves.keys().next().value;
      if (oldest !== undefined) this.leaves.delete(oldest);
    }
    return { cert: leaf.cert, key: leaf.key };
  }

  private issueLeaf(host: string, now: number): CachedLeaf {
    const { publicKey, privateKey } = newKeyPair();
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const ip = parseIp(host);
    const altName = ip ? der.implicitPrimitive(7, Buffer.from(ip.bytes)) : der.implicitPrimitive(2, Buffer.from(host, 'ascii'));
    // A common name is limited to 64 characters; without one, the SAN must be critical.
    const withCn = host.length <= 64;
    const validityMs = this.options.leafValidityDays * DAY_MS;
    const notBefore = new Date(now - 60 * 60 * 1000);
    const notAfter = new Date(now + validityMs);
    const cert = issue({
      issuer: this.issuerName,
      subject: withCn ? name([[OID.commonName, host]]) : der.sequence(),
      notBefore,
      notAfter,
      publicKey,
      signer: this.signer,
      extensions: [
        extension(OID.basicConstraints, true, der.sequence()),
        extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature])),
        extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth))),
        extension(OID.subjectAltName, !withCn, der.sequence(altName)),
        extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(spki))),
        extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, this.issuerKeyId))),
      ],
    });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { cert, key, renewAt: now + validityMs * 0.8 };
  }
}

function resolveOptions(o: SandboxCAOptions): Required<Pick<SandboxCAOptions, 'leafValidityDays' | 'maxCachedLeaves' | 'now'>> {
  return { leafValidityDays: o.leafValidityDays ?? 30, maxCachedLeaves: o.maxCachedLeaves ?? 4096, now: o.now ?? (() => new Date()) };
}

/** A fresh CA: EC P-256 key, self-signed, CA:TRUE with path length 0. */
export function createSandboxCA(options: SandboxCAOptions = {}): SandboxCA {
  const { publicKey, privateKey } = newKeyPair();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = keyIdentifier(spki);
  const label = `warden sandbox CA${options.name ? ` ${options.name}` : ''} ${crypto.randomBytes(4).toString('hex')}`.slice(0, 64);
  const subject = name([
    [OID.organization, 'warden'],
    [OID.commonName, label],
  ]);
  const now = (options.now ?? (() => new Date()))().getTime();
  const certPem = issue({
    issuer: subject,
    subject,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + (options.validityDays ?? 3650) * DAY_MS),
    publicKey,
    signer: signerFor(privateKey),
    extensions: [
      extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.integer(0))),
      extension(OID.keyUsage, true, der.namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
    ],
  });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return new CertificateAuthority(certPem, keyPem, subject, keyId, resolveOptions(options));
}

/** A CA from stored PEM (for example after a gateway restart). Refuses a non-CA or a wrong key. */
export function loadSandboxCA(pem: { certPem: string; keyPem: string }, options: SandboxCAOptions = {}): SandboxCA {
  const x509 = new crypto.X509Certificate(pem.certPem);
  if (!x509.ca) throw new Error('certificate is not a CA certificate');
  const key = crypto.createPrivateKey(pem.keyPem);
  if (!x509.checkPrivateKey(key)) throw new Error('private key does not belong to the CA certificate');
  const { subject, keyId } = readIssuer(x509.raw);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return new CertificateAuthority(pem.certPem, pem.keyPem, subject, keyId ?? keyIdentifier(spki), resolveOptions(options));
}
