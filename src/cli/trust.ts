// The extra CA certificates of NODE_EXTRA_CA_CERTS, for the TLS connections warden's own process
// makes (a `warden run` proxy re-originating an inspected request, inference.local calling a
// provider). Started as `warden`, Node did not load them (bin/warden.js says why); they are
// read here, when the first such connection is set up, and added to Node's own roots.
import { readFileSync } from 'node:fs';
import { printLine } from './output.js';

let deferredFile: string | undefined;
let roots: string[] | undefined;

/** Called once at start with the file Node was not given (or undefined: Node loaded it itself, or there is none). */
export function deferExtraCaCertificates(file: string | undefined): void {
  deferredFile = file === '' ? undefined : file;
  roots = undefined;
}

/**
 * The roots for warden's own TLS clients: undefined when Node's defaults already hold everything
 * (pass nothing), else Node's roots and the deferred file's certificates. An unreadable file is
 * said once and skipped, as Node itself does with NODE_EXTRA_CA_CERTS.
 */
export async function upstreamRoots(): Promise<string[] | undefined> {
  if (deferredFile === undefined) return undefined;
  if (roots !== undefined) return roots;
  // Loaded here, not with the CLI: node:tls costs every command start-up time.
  const { rootCertificates } = await import('node:tls');
  let extra: string[] = [];
  try {
    extra = [readFileSync(deferredFile, 'utf8')];
  } catch (error) {
    printLine(2, `warden: warning: ignoring extra certs from ${deferredFile} (NODE_EXTRA_CA_CERTS), load failed: ${(error as Error).message}`);
  }
  roots = [...rootCertificates, ...extra];
  return roots;
}
