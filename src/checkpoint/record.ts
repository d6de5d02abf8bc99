// Builds the one decision record (src/audit/records.ts declares it) from an action, its subject
// and its verdict, redacted before anything else sees it: the audit log, `warden run`'s stderr,
// the terminal UI all get this object.

import { DECISION_KINDS, redactValue, type DecisionKind, type DecisionRecord } from '../audit/index.js';
import type { Action, NetworkFacts, Subject, Verdict } from './types.js';

export interface RecordInput {
  action: Action;
  subject: Subject;
  verdict: Verdict;
  network?: NetworkFacts | undefined;
  /** performance.now() when the action arrived. */
  startedAt: number;
}

export function decisionKind(action: Action): DecisionKind {
  return DECISION_KINDS[action.type];
}

export function buildRecord(input: RecordInput): DecisionRecord {
  const { action, subject, verdict } = input;
  const process = subject.process;
  const record: DecisionRecord = {
    ts: new Date().toISOString(),
    sandbox: subject.sandbox,
    action: action.type,
    verdict: verdict.verdict,
    code: verdict.code,
    stage: verdict.stage,
    binary: { path: process?.exe ?? '', pid: process?.pid ?? 0, ancestors: process?.ancestors.map((a) => a.exe) ?? [] },
    reason: verdict.reason,
    latency_ms: Math.round((performance.now() - input.startedAt) * 1000) / 1000,
  };
  describeAction(record, action, input.network);
  if (verdict.policy !== undefined) record.policy = verdict.policy;
  if (verdict.rule !== undefined) record.rule = verdict.rule;
  if (verdict.verdict !== 'allow') {
    if (verdict.rule_missing !== '') record.rule_missing = verdict.rule_missing;
    if (verdict.hint !== '') record.hint = verdict.hint;
  }
  if (verdict.tier !== undefined) record.tier = verdict.tier;
  if (verdict.audit) record.audit = true;
  // Security invariant: nothing leaves this function unredacted.
  return redactValue(record) as DecisionRecord;
}

function describeAction(record: DecisionRecord, action: Action, network: NetworkFacts | undefined): void {
  switch (action.type) {
    case 'connection':
    case 'http_request': {
      record.layer = action.layer;
      const ip = network?.addresses[0];
      record.destination = { host: action.host, port: action.port, ...(ip !== undefined ? { ip } : {}) };
      if (action.type === 'http_request') {
        record.method = action.method;
        // The query is never stored: its values are where secrets travel.
        record.path = network?.path ?? action.target.split('?')[0]!;
      }
      return;
    }
    case 'model_call':
      record.target = action.model === undefined ? action.route : `${action.route} (${action.model})`;
      return;
    case 'tool_call':
      record.target = action.tool;
      return;
    case 'bus_message':
      record.target = action.to;
      return;
    case 'permission_request':
      record.target = action.permission;
      return;
    case 'content':
      record.target = `${action.source} from ${action.origin}`;
      return;
  }
}
