import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { prepareSandboxNetwork, type EgressEvent, type SandboxNetworkSetup } from '../egress/index.js';
import type { Policy } from '../policy/index.js';
import { terminalSafe } from './audit-io.js';
import { printLine } from './output.js';

/**
 * The egress proxy of a one-shot `warden run`, in warden's own process, with its event log.
 * Denials are also printed on stderr, one line each, as they happen.
 */
export function prepareRunNetwork(policy: Policy, sandbox: string, eventLog: string): SandboxNetworkSetup {
  mkdirSync(path.dirname(eventLog), { recursive: true, mode: 0o700 });
  return prepareSandboxNetwork({ sandbox, policy: () => policy, onEvent: (event) => recordEvent(event, eventLog) });
}

function recordEvent(event: EgressEvent, eventLog: string): void {
  appendFileSync(eventLog, JSON.stringify(event) + '\n', { mode: 0o600 });
  // Hosts, paths and binary names come from the sandbox: no terminal escapes reach the user.
  if (event.verdict === 'deny') printLine(2, terminalSafe(denialLine(event)));
}

/** One line per denial on warden's stderr: who, where, why. */
export function denialLine(event: EgressEvent): string {
  const what = event.method ? `${event.method} ${event.destination.host}:${event.destination.port}${event.path ?? ''}` : `${event.destination.host}:${event.destination.port}`;
  return `warden: denied ${event.binary.path || 'unknown binary'} (pid ${event.binary.pid}) -> ${what}: ${event.reason}`;
}
