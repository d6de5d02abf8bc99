// The CA files of inspected endpoints (a policy's `upstream_ca`): read when a request to such an
// endpoint goes out, and kept while the file is unchanged, so an edited file applies to the next
// request without a read on every one.
import { readFileSync, statSync } from 'node:fs';

/** A CA file larger than this is refused (a bundle of a few hundred certificates fits). */
const MAX_CA_FILE_BYTES = 1024 * 1024;

export class UpstreamCaError extends Error {}

export class UpstreamCaFiles {
  private readonly cache = new Map<string, { mtimeMs: number; size: number; pem: string }>();

  /** The PEM text of `file`; throws an UpstreamCaError saying why it cannot be used. */
  read(file: string): string {
    let stat;
    try {
      stat = statSync(file);
    } catch (error) {
      throw new UpstreamCaError(`upstream_ca ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.pem;
    if (!stat.isFile() || stat.size > MAX_CA_FILE_BYTES) throw new UpstreamCaError(`upstream_ca ${file} is not a PEM file of at most 1 MiB`);
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UpstreamCaError(`upstream_ca ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UpstreamCaError(`upstream_ca ${file} holds no PEM certificate`);
    this.cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, pem });
    return pem;
  }
}

/** Errors of a TLS handshake whose server certificate did not verify (Node's codes). */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'INVALID_CA', 'HOSTNAME_MISMATCH',
]);

export function isUntrustedCertificate(error: Error): boolean {
  return UNTRUSTED_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}
