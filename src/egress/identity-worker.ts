// The identity worker: finds which process holds a proxy client's socket (identity.ts), off the
// gateway's event loop. One per IdentityService worker slot; it keeps, per sandbox, where socket
// inodes were last seen and which processes called recently, so most searches are short.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { descendantPids, ExeHashCache, identifyTcpPeerSync, SocketIndex } from './identity.js';
import type { IdentityJob, IdentityReply } from './identity-service.js';

const hashes = new ExeHashCache();
const perSandbox = new Map<string, { sockets: SocketIndex; recent: number[] }>();

function candidatesOf(job: IdentityJob): number[] {
  if ('cgroupProcs' in job.candidates) {
    return readFileSync(job.candidates.cgroupProcs, 'utf8').split('\n').filter(Boolean).map(Number);
  }
  return descendantPids(job.candidates.descendantsOf, job.procRoot);
}

function identify(job: IdentityJob): IdentityReply {
  let state = perSandbox.get(job.sandbox);
  if (!state) {
    state = { sockets: new SocketIndex(), recent: [] };
    perSandbox.set(job.sandbox, state);
  }
  try {
    const identity = identifyTcpPeerSync({
      ...job.connection,
      ...(job.procRoot ? { procRoot: job.procRoot } : {}),
      netTablePid: job.netTablePid,
      candidates: candidatesOf(job),
      ancestorBoundary: () => job.boundaries,
      ...(job.writable ? { writable: job.writable } : {}),
      budget: job.budget,
      hashes,
      sockets: state.sockets,
      recent: state.recent,
    });
    state.recent = [identity.pid, ...state.recent.filter((pid) => pid !== identity.pid)].slice(0, 32);
    return { id: job.id, identity };
  } catch (error) {
    return { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
}

parentPort?.on('message', (message: IdentityJob | { forget: string }) => {
  if ('forget' in message) {
    perSandbox.delete(message.forget);
    return;
  }
  parentPort!.postMessage(identify(message));
});
