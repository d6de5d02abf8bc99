// Identifying proxy callers without ever blocking the event loop, and without letting one sandbox
// starve the others: the searches run in worker threads (identity-worker.ts), each sandbox has at
// most one search running at a time and a bounded queue, and sandboxes take turns for the workers.
// A sandbox that makes its own searches slow (thousands of processes and descriptors) slows only
// itself; each search is bounded too (identity.ts, IdentifyBudget).

import { Worker } from 'node:worker_threads';
import { DEFAULT_BUDGET, IdentityError, type IdentifyBudget } from './identity.js';
import type { ProcessIdentity } from '../policy/index.js';

/** Where a sandbox's processes are listed: its cgroup, or (without one) its init's descendants. */
export type CandidateSource = { cgroupProcs: string } | { descendantsOf: number };

export interface IdentityRequest {
  connection: { peerAddress: string; peerPort: number; localAddress: string; localPort: number };
  /** A process in the sandbox's network namespace, whose connection table is read. */
  netTablePid: number;
  candidates: CandidateSource;
  boundaries: number[];
  /** Where the sandbox can write; absent: no check for planted code (a caller outside any sandbox). */
  writable?: string[];
  procRoot?: string;
  budget?: IdentifyBudget;
}

export interface IdentityJob extends IdentityRequest {
  id: number;
  sandbox: string;
  budget: IdentifyBudget;
}

export type IdentityReply = { id: number; identity: ProcessIdentity } | { id: number; error: string };

/** Searches one sandbox may have waiting; more is a flood, refused at once. */
export const MAX_PENDING_PER_SANDBOX = 64;

interface Pending {
  job: IdentityJob;
  resolve: (identity: ProcessIdentity) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

export class IdentityService {
  private readonly slots: Slot[] = [];
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Set<string>();
  /** Round-robin order of sandboxes waiting for a worker. */
  private turn: string[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly workers = 2) {}

  /** Identifies a caller; a search still queued when `signal` aborts (the client left) is dropped. */
  identify(sandbox: string, request: IdentityRequest, signal?: AbortSignal): Promise<ProcessIdentity> {
    if (this.closed) return Promise.reject(new IdentityError('the identity service is closed'));
    const queue = this.queues.get(sandbox) ?? [];
    if (queue.length >= MAX_PENDING_PER_SANDBOX) {
      return Promise.reject(new IdentityError(`sandbox ${sandbox} has ${queue.length} connections waiting to be identified already`));
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { ...request, budget: request.budget ?? DEFAULT_BUDGET, id: this.nextId++, sandbox }, resolve, reject };
      queue.push(pending);
      this.queues.set(sandbox, queue);
      if (!this.turn.includes(sandbox)) this.turn.push(sandbox);
      signal?.addEventListener('abort', () => this.drop(sandbox, pending), { once: true });
      this.dispatch();
    });
  }

  private drop(sandbox: string, pending: Pending): void {
    const queue = this.queues.get(sandbox);
    const index = queue?.indexOf(pending) ?? -1;
    if (index < 0) return; // running or done: it finishes, bounded anyway
    queue!.splice(index, 1);
    if (queue!.length === 0) {
      this.queues.delete(sandbox);
      this.turn = this.turn.filter((name) => name !== sandbox);
    }
    pending.reject(new IdentityError('the client went away before it was identified'));
  }

  /** Drops a sandbox's queued searches and the workers' memory of it. */
  forget(sandbox: string): void {
    for (const pending of this.queues.get(sandbox) ?? []) pending.reject(new IdentityError(`sandbox ${sandbox} is gone`));
    this.queues.delete(sandbox);
    this.turn = this.turn.filter((name) => name !== sandbox);
    for (const slot of this.slots) slot.worker.postMessage({ forget: sandbox });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sandbox of [...this.queues.keys()]) this.forget(sandbox);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }

  private dispatch(): void {
    while (true) {
      const slot = this.idleSlot();
      if (!slot) return;
      const sandbox = this.turn.find((name) => !this.running.has(name) && (this.queues.get(name)?.length ?? 0) > 0);
      if (sandbox === undefined) return;
      // The sandbox goes to the back of the line: everyone else gets a turn before its next search.
      this.turn = [...this.turn.filter((name) => name !== sandbox), sandbox];
      const pending = this.queues.get(sandbox)!.shift()!;
      if (this.queues.get(sandbox)!.length === 0) {
        this.queues.delete(sandbox);
        this.turn = this.turn.filter((name) => name !== sandbox);
      }
      this.running.add(sandbox);
      slot.busy = pending;
      // Busy, the worker keeps the process alive (its answer is awaited); idle, it does not.
      slot.worker.ref();
      slot.worker.postMessage(pending.job);
    }
  }

  private idleSlot(): Slot | undefined {
    const idle = this.slots.find((slot) => slot.busy === undefined);
    if (idle || this.slots.length >= this.workers) return idle;
    const slot: Slot = { worker: new Worker(new URL('./identity-worker.js', import.meta.url)), busy: undefined };
    slot.worker.on('message', (reply: IdentityReply) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crashed(slot, error));
    slot.worker.on('exit', (code) => this.crashed(slot, new Error(`identity worker exited (${code})`)));
    // After the listeners, which would take a reference again: an idle worker keeps nothing alive.
    slot.worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot, reply: IdentityReply): void {
    const pending = slot.busy;
    if (!pending || pending.job.id !== reply.id) return;
    slot.busy = undefined;
    slot.worker.unref();
    this.running.delete(pending.job.sandbox);
    if ('identity' in reply) pending.resolve(reply.identity);
    else pending.reject(new IdentityError(reply.error));
    this.dispatch();
  }

  /** A worker that failed takes its search with it (refused: fail closed); another replaces it. */
  private crashed(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    if (slot.busy) {
      this.running.delete(slot.busy.job.sandbox);
      slot.busy.reject(new IdentityError(`the identity worker failed: ${error.message}`));
    }
    if (!this.closed) this.dispatch();
  }
}

let shared: IdentityService | undefined;

/** The process's identity service (one per gateway, or per `warden run`). */
export function identityService(): IdentityService {
  shared ??= new IdentityService();
  return shared;
}

/**
 * An `identify` function for a proxy serving the processes below `rootPid` in this process's own
 * network namespace (tests and benchmarks run clients this way, without a sandbox).
 */
export function descendantIdentifier(rootPid: number, service = identityService()): (socket: import('node:net').Socket, signal?: AbortSignal) => Promise<ProcessIdentity> {
  return (socket, signal) => {
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) return Promise.reject(new IdentityError('socket is not a connected TCP socket'));
    return service.identify(`host-${rootPid}`, {
      connection: { peerAddress: remoteAddress, peerPort: remotePort, localAddress, localPort },
      netTablePid: process.pid,
      candidates: { descendantsOf: rootPid },
      boundaries: [],
    }, signal);
  };
}
