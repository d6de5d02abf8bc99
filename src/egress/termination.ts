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
  /** Set for a `tls: skip` endpoint: TLS is never terminated, and a handshake closes the tunnel. */
  tlsRefused?: () => void;
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

  /**
   * A TLS connection made straight to one of warden's own names (inference.local on the sandbox's
   * loopback, no CONNECT before it): the name the client asks for (SNI) picks the certificate and
   * the service; any other name, or no TLS, is refused.
   */
  acceptDirect(socket: net.Socket, hosts: readonly string[], secure: (socket: tls.TLSSocket, host: string) => void): void {
    const pick = (servername: string | undefined): string | undefined => {
      const name = servername === undefined ? undefined : normaliseHost(servername);
      return name !== null && name !== undefined && hosts.includes(name) ? name : undefined;
    };
    let chosen: string | undefined;
    const secured = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: this.contextFor(hosts[0]!),
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, cb) => {
        chosen = pick(servername);
        if (chosen === undefined) cb(new Error('not one of warden\'s names'), undefined);
        else cb(null, this.contextFor(chosen));
      },
    });
    secured.on('error', () => {
      secured.destroy();
      socket.destroy();
    });
    secured.once('secure', () => {
      // A client that sends no server name gets warden's only name, when there is one.
      const host = chosen ?? (hosts.length === 1 ? hosts[0] : undefined);
      if (host === undefined) secured.destroy();
      else secure(secured, host);
    });
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
      if (handlers.tlsRefused) {
        handlers.tlsRefused();
        socket.destroy();
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
