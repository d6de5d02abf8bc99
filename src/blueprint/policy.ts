// A blueprint sandbox's policy: the blueprint's default, allowing the inference route's provider
// only, plus the presets asked for at launch. A preset names the programs that may use it as they
// are installed on a host (/usr/bin/node); in a blueprint's sandbox the agent runs from its layer,
// so the layer's program is added to each network policy the preset brings.

import { policyLoader, type Policy } from '../policy/index.js';
import { type Blueprint, BlueprintError } from './schema.js';
import { substitute } from './render.js';

/**
 * The policy for a new sandbox of `blueprint`: the blueprint's own (or `base`, a policy file the
 * user gave instead), its model calls allowed to the route's provider only (unless `base` names
 * its routes itself), plus `presets`.
 */
export async function blueprintPolicy(blueprint: Blueprint, options: { provider: string; presets?: readonly string[]; base?: { policy: Policy; file: string } }): Promise<Policy> {
  const { parsePolicy, loadPreset, mergePolicies } = await policyLoader();
  let policy = options.base?.policy ?? parsePolicy(blueprint.policyText, `${blueprint.file} (its policy)`);
  const where = options.base?.file ?? `${blueprint.file} (its policy)`;
  if (policy.inference === undefined) {
    throw new BlueprintError(`${where} has no inference section, so ${blueprint.name} could not call its model: add \`inference: {}\` (the route's provider is then allowed)`);
  }
  if (options.base === undefined || policy.inference.allowed_routes === undefined) {
    policy = { ...policy, inference: { ...policy.inference, allowed_routes: [options.provider] } };
  }
  const agent = blueprint.agent_binary === undefined ? undefined : substitute(blueprint.agent_binary, { mount: blueprint.mount }, `${blueprint.name}: agent_binary`);
  for (const name of options.presets ?? []) {
    const preset = loadPreset(name);
    if (agent !== undefined) {
      for (const rule of Object.values(preset.network_policies)) {
        if (!rule.binaries.some((b) => b.path === agent)) rule.binaries.push({ path: agent });
      }
    }
    policy = mergePolicies(policy, preset);
  }
  return policy;
}
