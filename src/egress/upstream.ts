// Reaching the destination: resolve once, check every address (ssrf.ts), dial exactly the
// checked address. Names are never handed to a socket API, so nothing resolves twice.

import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => {
  const answers = await dns.promises.lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
};

/** Connect to the first address that answers; every address given must already be checked. */
export function dialFirst(addresses: readonly string[], port: number, timeoutMs: number, onread?: net.OnReadOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let i = 0;
    let lastError: Error = new Error('no address to dial');
    const next = (): void => {
      const address = addresses[i++];
      if (address === undefined) {
        reject(lastError);
        return;
      }
      const s = net.connect({ host: address, port, ...(onread ? { onread } : {}) });
      s.setNoDelay(true);
      const timer = setTimeout(() => s.destroy(new Error(`connect to ${address}:${port} timed out`)), timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        lastError = err;
        next();
      });
    };
    next();
  });
}

export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
  destroy(): void;
}

/**
 * Keep-alive pools for re-originated requests. Pools are keyed by the dialled IP, port and
 * SNI name, so a pooled connection is only reused for the same checked address.
 */
export function createAgents(upstreamCA: string | string[] | undefined): UpstreamAgents {
  const common = { keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' as const };
  const httpAgent = new http.Agent(common);
  const httpsAgent = new https.Agent({ ...common, ...(upstreamCA ? { ca: upstreamCA } : {}), rejectUnauthorized: true });
  return {
    http: httpAgent,
    https: httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

const RELAY_BUFFER_BYTES = 256 * 1024;

/**
 * Reads of a raw tunnel's upstream go straight into one reusable 256 KiB buffer (instead of a
 * fresh 64 KiB buffer per read) and are written to the client before the next read: fewer
 * system calls and no garbage on the hot download path. The buffer is only reused once the
 * previous write has been handed to the kernel (its callback has fired).
 */
export function bufferedForwarder(): { onread: net.OnReadOpts; attach(source: net.Socket, target: net.Socket): void } {
  let source: net.Socket | null = null;
  let target: net.Socket | null = null;
  // Bytes the server sent before the tunnel was wired up (a banner, say), kept in order.
  const early: Buffer[] = [];
  const buffer = Buffer.allocUnsafe(RELAY_BUFFER_BYTES);
  return {
    onread: {
      buffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        if (!target || !source) {
          early.push(Buffer.from(buf.subarray(0, n)));
          return true;
        }
        const s = source;
        // Resume one event-loop turn later: more bytes have arrived by then, so reads are larger
        // and fewer (the proxy otherwise wakes for every TLS record the server sends).
        target.write(buf.subarray(0, n), () => setImmediate(() => s.resume()));
        return false;
      },
    },
    attach(src: net.Socket, dst: net.Socket): void {
      for (const chunk of early.splice(0)) dst.write(chunk);
      source = src;
      target = dst;
      src.on('end', () => dst.end());
    },
  };
}
