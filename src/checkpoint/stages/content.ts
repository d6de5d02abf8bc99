// Content reaching the agent (a response body, a tool's result, a message) is allowed by policy:
// what the agent may reach was decided when it asked. Governance (the directive scanner) may still
// flag, hold or block it.

import type { Stage } from '../types.js';

export const contentStage: Stage = {
  name: 'content',
  kind: 'policy',
  run(ctx) {
    if (ctx.action.type !== 'content') return;
    ctx.verdict = { verdict: 'allow', code: 'allowed', stage: 'policy', reason: `${ctx.action.source} passed on`, rule_missing: '', hint: '' };
  },
};
