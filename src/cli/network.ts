import { appendFileSync } from 'node:fs';
import { createCheckpoint } from '../checkpoint/index.js';
import { prepareSandboxNetwork, type SandboxNetworkSetup } from '../egress/index.js';
import { governanceStages } from '../governance/index.js';
import type { Policy } from '../policy/index.js';
import type { RunRecords } from './run-records.js';

/**
 * The egress proxy of a one-shot `warden run`, in warden's own process: its decisions go through
 * the sandbox's checkpoint into the audit log (and, with --events FILE, also to FILE as JSON lines).
 */
export function prepareRunNetwork(policy: Policy, sandbox: string, records: RunRecords, eventsFile: string | undefined): SandboxNetworkSetup {
  const checkpoint = createCheckpoint({
    sandbox,
    policy: () => policy,
    recorder: (record, kind) => {
      if (eventsFile !== undefined) appendFileSync(eventsFile, JSON.stringify({ kind, ...record }) + '\n', { mode: 0o600 });
      return records.decision(record, kind);
    },
    stages: governanceStages(),
  });
  return prepareSandboxNetwork({ checkpoint, policy: () => policy });
}
