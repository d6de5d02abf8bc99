// What the proxy says about a decision: the JSON body of a 403 and the event record. Both name
// the missing rule so an operator (or the agent) can tell exactly what to change.

import type { DecisionCode, EgressEvent, ProcessIdentity, Verdict } from './types.js';

export interface DenialBody {
  error: string;
  code: DecisionCode;
  host: string;
  port: number;
  binary: string | null;
  method?: string;
  path?: string;
  policy?: string;
  rule_missing: string;
  hint: string;
}

export interface RequestFacts {
  host: string;
  port: number;
  ip?: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
}

export function denialBody(v: Verdict, facts: RequestFacts, identity: ProcessIdentity | null): DenialBody {
  const told = v.toSandbox ?? v;
  return {
    error: told.reason,
    code: v.code,
    host: facts.host,
    port: facts.port,
    binary: identity?.exe ?? null,
    ...(facts.method !== undefined ? { method: facts.method } : {}),
    ...(facts.path !== undefined ? { path: facts.path } : {}),
    ...(v.policy !== undefined ? { policy: v.policy } : {}),
    rule_missing: told.rule_missing,
    hint: told.hint,
  };
}

export interface EventInput {
  sandbox: string;
  layer: EgressEvent['layer'];
  verdict: 'allow' | 'deny';
  code: EgressEvent['code'];
  reason: string;
  identity: ProcessIdentity | null;
  facts: RequestFacts;
  policy?: string | undefined;
  rule?: string | undefined;
  audit?: boolean | undefined;
  startedAt: number;
}

export function buildEvent(i: EventInput): EgressEvent {
  const e: EgressEvent = {
    ts: new Date().toISOString(),
    sandbox: i.sandbox,
    kind: 'egress',
    verdict: i.verdict,
    code: i.code,
    layer: i.layer,
    binary: {
      path: i.identity?.exe ?? '',
      pid: i.identity?.pid ?? 0,
      ancestors: i.identity?.ancestors.map((a) => a.exe) ?? [],
    },
    destination: { host: i.facts.host, port: i.facts.port, ...(i.facts.ip ? { ip: i.facts.ip } : {}) },
    reason: i.reason,
    latency_ms: Math.round((performance.now() - i.startedAt) * 1000) / 1000,
  };
  if (i.facts.method !== undefined) e.method = i.facts.method;
  if (i.facts.path !== undefined) e.path = i.facts.path;
  if (i.policy !== undefined) e.policy = i.policy;
  if (i.rule !== undefined) e.rule = i.rule;
  if (i.audit) e.audit = true;
  return e;
}
