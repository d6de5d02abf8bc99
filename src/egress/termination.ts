// Opening an inspected tunnel: after `200 Connection Established` the client either starts a
// TLS handshake (answered with a leaf certificate from the sandbox CA for the CONNECT host) or
// speaks plain HTTP; both end up in the inner request parser.

import type net from 'node:net';
import tls from 'node:tls';
import { normaliseHost } from '../policy/index.js';
import type { SandboxCA } from './types.js';

const TLS_HANDSHAKE_RECORD = 0x16;
const MAX_CONTEXTS = 1024;

export interface TerminationHandlers {
  plain(socket: net.Socket): void;
  secure(socket: tls.TLSSocket): void;
  /** The client asked (via SNI) for another host than the one it CONNECTed to. */
  sniRefused(servername: string): void;
}

export class TlsTerminator {
  private readonly contexts = new Map<string, { cert: string; context: tls.SecureContext }>();

  constructor(private readonly ca: SandboxCA) {}

  contextFor(host: string): tls.SecureContext {
    const leaf = this.ca.leafFor(host);
    const cached = this.contexts.get(host);
    if (cached && cached.cert === leaf.cert) return cached.context;
    const context = tls.createSecureContext({ key: leaf.key, cert: leaf.cert });
    if (this.contexts.size >= MAX_CONTEXTS) this.contexts.clear();
    this.contexts.set(host, { cert: leaf.cert, context });
    return context;
  }

  /** Look at the client's first bytes and hand the connection on, terminating TLS if it is TLS. */
  accept(socket: net.Socket, head: Buffer, host: string, handlers: TerminationHandlers): void {
    if (head.length > 0) socket.unshift(head);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        handlers.plain(socket);
        socket.resume();
        return;
      }
      let refusedName: string | null = null;
      const secure = new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: this.contextFor(host),
        ALPNProtocols: ['http/1.1'],
        SNICallback: (servername, cb) => {
          if (normaliseHost(servername) === host) {
            cb(null, this.contextFor(host));
            return;
          }
          refusedName = servername;
          cb(new Error('TLS server name differs from the CONNECT target'), undefined);
        },
      });
      secure.on('error', () => {
        if (refusedName !== null) handlers.sniRefused(refusedName);
        refusedName = null;
        secure.destroy();
        socket.destroy();
      });
      secure.once('secure', () => handlers.secure(secure));
    });
  }
}
