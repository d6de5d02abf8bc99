// The policy stage for model calls (inference.local). Deny by default: the policy must have an
// `inference:` section; a route must be configured for the call's API shape, its provider allowed
// by inference.allowed_routes, the model named by the caller on inference.models when that list
// exists, no tool the provider would run itself unless inference.server_tools allows it, and the
// sandbox within its token budget.

import type { InferencePolicy } from '../../policy/index.js';
import type { ModelCallAction, Stage, Verdict } from '../types.js';

export const modelCallStage: Stage = {
  name: 'model call policy',
  kind: 'policy',
  run(ctx) {
    if (ctx.action.type !== 'model_call') return;
    ctx.verdict = decideModelCall(ctx.action, ctx.policy.inference);
  },
};

function decideModelCall(call: ModelCallAction, inference: InferencePolicy | undefined): Verdict {
  const deny = (code: Verdict['code'], reason: string, ruleMissing: string, hint: string): Verdict =>
    ({ verdict: 'deny', code, stage: 'policy', policy: 'inference', reason, rule_missing: ruleMissing, hint });
  if (inference === undefined) {
    return deny('no_inference_route', 'the sandbox\'s policy has no inference section, so it may make no model calls',
      `inference: { allowed_routes: [${call.provider ?? 'PROVIDER'}] }`, 'add an inference: section to the policy (it applies live)');
  }
  if (call.provider === undefined) {
    return deny('no_inference_route', `no inference route is configured for ${call.api}-shaped calls (${call.route})`, '',
      `configure one on the host: warden inference set --provider NAME${call.api === 'anthropic' ? ' (an anthropic provider)' : ''} --model MODEL`);
  }
  if (inference.allowed_routes !== undefined && !inference.allowed_routes.includes(call.provider)) {
    return deny('no_inference_route', `the route's provider ${call.provider} is not in the policy's inference.allowed_routes`,
      `inference: { allowed_routes: [${call.provider}] }`, 'add the provider to inference.allowed_routes, or set a route to an allowed provider');
  }
  if (inference.models !== undefined && call.route !== '/v1/models' && (call.model === undefined || !inference.models.includes(call.model))) {
    return deny('model_not_allowed', call.model === undefined ? 'the call names no model, and the policy lists the models a caller may use'
      : `model ${call.model} is not in the policy's inference.models`, `inference: { models: [${call.model ?? 'MODEL'}] }`,
    `name one of: ${inference.models.join(', ')}`);
  }
  if (inference.server_tools !== true && (call.serverTools?.length ?? 0) > 0) {
    return deny('server_tool_not_allowed', `the call asks the provider to run ${call.serverTools!.join(', ')} itself, outside the sandbox and its network policy`,
      'inference: { server_tools: true }', 'use tools the agent runs (function tools), or allow server tools in the policy');
  }
  if (inference.token_budget !== undefined && (call.tokensUsed ?? 0) >= inference.token_budget) {
    return deny('budget_exceeded', `the sandbox has spent ${call.tokensUsed ?? 0} tokens of its budget of ${inference.token_budget}`,
      `inference: { token_budget: ${inference.token_budget * 2} }`, 'raise inference.token_budget in the policy (it applies live), or start a new sandbox');
  }
  return {
    verdict: 'allow', code: 'allowed', stage: 'policy', policy: 'inference', rule: `route ${call.api} -> ${call.provider}`,
    reason: `${call.route} goes to provider ${call.provider}`, rule_missing: '', hint: '',
  };
}
