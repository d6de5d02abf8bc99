import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { type Checkpoint, createCheckpoint } from '../checkpoint/index.js';
import { type EgressHooks, prepareSandboxNetwork, proxyIgnoredNotice, type SandboxNetworkSetup } from '../egress/index.js';
import { governanceStages } from '../governance/index.js';
import type { Policy } from '../policy/index.js';
import { printLine } from './output.js';
import type { RunRecords } from './run-records.js';
import { upstreamRoots } from './trust.js';


/**
 * The egress proxy of a one-shot `warden run`, in warden's own process: its decisions go through
 * the sandbox's checkpoint into the audit log (and, with --events FILE, also to FILE as JSON lines).
 */
export async function prepareRunNetwork(policy: Policy, sandbox: string, records: RunRecords, eventsFile: string | undefined, home: string): Promise<SandboxNetworkSetup> {
  const checkpoint = createCheckpoint({
    sandbox,
    policy: () => policy,
    recorder: (record, kind) => {
      if (eventsFile !== undefined) appendFileSync(eventsFile, JSON.stringify({ kind, ...record }) + '\n', { mode: 0o600 });
      return records.decision(record, kind);
    },
    stages: governanceStages(),
  });
  let told = false;
  const onDirectLookup = (name: string) => {
    if (told) return;
    told = true;
    printLine(2, proxyIgnoredNotice(name));
    records.event('egress.direct_lookup', { host: name });
  };
  return prepareSandboxNetwork({ checkpoint, policy: () => policy, hooks: await inferenceHooks(checkpoint, home, records), onDirectLookup, upstreamCA: await upstreamRoots() });
}

/**
 * inference.local for a one-shot run whose policy has an inference section, once a route has been
 * set (`warden inference set`): the inference component is loaded only then, so a run without it
 * starts no slower.
 */
async function inferenceHooks(checkpoint: Checkpoint, home: string, records: RunRecords): Promise<EgressHooks> {
  if (checkpoint.policyInForce().inference === undefined || !existsSync(path.join(home, 'inference.json'))) return {};
  const { createInferenceService, INFERENCE_HOST, ProviderStore } = await import('../inference/index.js');
  const upstreamCA = await upstreamRoots();
  const inference = createInferenceService({ checkpoint, store: new ProviderStore(home), recordCall: (call) => records.event('inference.call', call), ...(upstreamCA ? { upstreamCA } : {}) });
  return { localServices: { [INFERENCE_HOST]: inference.service } };
}
