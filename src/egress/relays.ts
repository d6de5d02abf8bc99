// Byte relays between a client and an upstream socket (raw CONNECT tunnels, WebSockets),
// tracked with the decision that authorised each, so that a policy change re-decides that same
// action and closes only the relays it no longer allows.

import type net from 'node:net';
import type { Transform } from 'node:stream';
import type { ConnectionAction, HttpRequestAction, Subject } from '../checkpoint/index.js';

export interface RelayInfo {
  /** The action that was allowed: the CONNECT for a raw tunnel, the upgrade request for a WebSocket. */
  action: ConnectionAction | HttpRequestAction;
  subject: Subject;
  /** The address actually dialled. */
  address: string;
  /** The checkpoint's policy generation the relay was last allowed under. */
  generation: number;
}

export interface OpenRelay extends RelayInfo {
  close(): void;
  /** Stops reading both sides (while the relay is re-decided); resume() undoes it. */
  pause(): void;
  resume(): void;
}

export class RelayRegistry {
  private readonly open = new Set<OpenRelay>();

  constructor(private readonly idleMs: number) {}

  /**
   * Relay both ways between `client` and `upstream`. With `upstreamWired`, the upstream ->
   * client direction is already forwarded by the caller (see bufferedForwarder). With `guards`,
   * each direction passes through its checker (WebSocket frames), which ends the relay on error.
   */
  relay(client: net.Socket, upstream: net.Socket, info: RelayInfo, upstreamWired = false, guards?: { fromClient: Transform; fromUpstream: Transform }): void {
    const entry: OpenRelay = {
      ...info,
      close: () => {
        client.destroy();
        upstream.destroy();
      },
      pause: () => {
        client.pause();
        upstream.pause();
      },
      resume: () => {
        client.resume();
        upstream.resume();
      },
    };
    this.open.add(entry);
    const abort = (): void => {
      this.open.delete(entry);
      entry.close();
    };
    // When one side has closed, the other is ended gracefully so bytes still queued for it are
    // delivered; the idle timeout (or closeAll) bounds how long it may linger.
    const closed = (other: net.Socket) => (): void => {
      if (other.destroyed) this.open.delete(entry);
      else other.end();
    };
    for (const s of [client, upstream]) {
      s.setTimeout(this.idleMs, abort);
      s.on('error', abort);
    }
    client.on('close', closed(upstream));
    upstream.on('close', closed(client));
    if (guards) {
      for (const guard of [guards.fromClient, guards.fromUpstream]) guard.on('error', (error: Error) => { this.refused?.(entry, error); abort(); });
      client.pipe(guards.fromClient).pipe(upstream);
      upstream.pipe(guards.fromUpstream).pipe(client);
      return;
    }
    client.pipe(upstream);
    if (!upstreamWired) upstream.pipe(client);
  }

  /** Told when a guard ends a relay (for the event log). */
  refused: ((relay: RelayInfo, error: Error) => void) | undefined;

  /** Open relays, for re-checking against a new policy. */
  list(): OpenRelay[] {
    return [...this.open];
  }

  closeAll(): void {
    for (const r of this.open) r.close();
    this.open.clear();
  }
}
