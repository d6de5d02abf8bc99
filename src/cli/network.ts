import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { type Checkpoint, createCheckpoint } from '../checkpoint/index.js';
import { type EgressHooks, prepareSandboxNetwork, type SandboxNetworkSetup } from '../egress/index.js';
import { governanceStages } from '../governance/index.js';
import type { Policy } from '../policy/index.js';
import { printLine } from './output.js';
import type { RunRecords } from './run-records.js';

/**
 * Said once per run when a program in the sandbox looks a name up itself: it is not using the
 * proxy, the sandbox's only way out. Node 20's fetch() is the common case.
 */
export function proxyIgnoredNotice(name: string): string {
  return `warden: a program in the sandbox looked up ${name} itself instead of connecting through the proxy (HTTP_PROXY/HTTPS_PROXY), ` +
    'the only way out of the sandbox, so its connection fails. Node 20\'s fetch() ignores the proxy variables: use Node 24 or later ' +
    "(NODE_USE_ENV_PROXY=1 is set for it), or on Node 20 install undici's EnvHttpProxyAgent as the global dispatcher " +
    "(import { setGlobalDispatcher, EnvHttpProxyAgent } from 'undici'; setGlobalDispatcher(new EnvHttpProxyAgent())).";
}

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
  return prepareSandboxNetwork({ checkpoint, policy: () => policy, hooks: await inferenceHooks(checkpoint, home, records), onDirectLookup });
}

/**
 * inference.local for a one-shot run whose policy has an inference section, once a route has been
 * set (`warden inference set`): the inference component is loaded only then, so a run without it
 * starts no slower.
 */
async function inferenceHooks(checkpoint: Checkpoint, home: string, records: RunRecords): Promise<EgressHooks> {
  if (checkpoint.policyInForce().inference === undefined || !existsSync(path.join(home, 'inference.json'))) return {};
  const { createInferenceService, INFERENCE_HOST, ProviderStore } = await import('../inference/index.js');
  const inference = createInferenceService({ checkpoint, store: new ProviderStore(home), recordCall: (call) => records.event('inference.call', call) });
  return { localServices: { [INFERENCE_HOST]: inference.service } };
}
