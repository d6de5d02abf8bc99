// Runs one OpenShell decision case (test/fixtures/openshell/decisions.jsonl) through warden: the
// loader for `load` cases, `warden policy explain`'s code (the checkpoint) for connections and
// requests. Shared by the parity test and the report script (check-parity.mjs).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { explainAction, type ExplainRequest } from '../../src/checkpoint/index.js';
import type { Policy } from '../../src/policy/index.js';
import { parsePolicy, PolicyError } from '../../src/policy/loader.js';

/** Tests run from dist/test/policy/; the fixture corpus is in the source tree. */
export const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'openshell');

export interface ParityRequest {
  layer: 'connect' | 'l7' | 'load';
  host?: string;
  port?: number;
  binary?: string;
  ancestors?: string[];
  method?: string;
  path?: string;
  upgrade?: string;
  resolved?: string[];
  resolution?: string;
  include_address_check?: boolean;
}

export interface ParityCase {
  id: string;
  source: { repo: string; path: string; commit: string; test: string };
  policy: string | { file: string };
  request: ParityRequest;
  expected: 'allow' | 'deny' | 'accept' | 'reject';
  group: string;
  notes?: string;
  expressible?: boolean;
  not_expressible_because?: string;
  expected_audit?: boolean;
  load_refusal_ok?: boolean;
  policy_reduced?: string;
  policy_reduced_note?: string;
  ambiguous?: string;
}

export type Outcome = 'agree' | 'permissive' | 'restrictive' | 'load-fail' | 'not-expressible';

export interface CaseResult {
  id: string;
  outcome: Outcome;
  /** What warden decided: allow / deny, accept / reject. */
  got?: string;
  /** Why, in warden's words. */
  how: string;
  audit?: boolean;
}

export function readCases(): ParityCase[] {
  return readFileSync(path.join(CORPUS, 'decisions.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ParityCase);
}

export function policyText(c: Pick<ParityCase, 'policy'>): string {
  return typeof c.policy === 'string' ? c.policy : readFileSync(path.join(CORPUS, c.policy.file), 'utf8');
}

export function load(text: string, name: string): { policy: Policy } | { error: string } {
  try {
    return { policy: parsePolicy(text, name) };
  } catch (error) {
    const message = error instanceof PolicyError ? error.format() : String((error as Error).message);
    return { error: message.split('\n')[0] ?? message };
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The request as `warden policy explain` takes it, with the DNS answers the case fixes. */
export function explainInput(request: ParityRequest): ExplainRequest {
  const input: ExplainRequest = { binary: request.binary ?? '', ancestors: request.ancestors ?? [] };
  if (request.upgrade === 'websocket') {
    input.url = `ws://${urlHost(request.host!)}:${request.port!}${request.path!}`;
    input.method = request.method!;
  } else {
    input.host = request.host!;
    input.port = request.port!;
    if (request.layer === 'l7') {
      input.method = request.method!;
      input.path = request.path!;
    }
  }
  if (request.include_address_check && request.resolved) input.resolve = { [request.host!]: request.resolved };
  return input;
}

export async function decide(policy: Policy, request: ParityRequest): Promise<{ verdict: 'allow' | 'deny'; how: string; audit: boolean }> {
  let explanation;
  try {
    explanation = await explainAction(policy, explainInput(request));
  } catch (error) {
    return { verdict: 'deny', how: `explain refuses the input: ${(error as Error).message}`, audit: false };
  }
  const how = `${explanation.stage}/${explanation.code}: ${explanation.reason}`;
  // A case that asserts only the policy decision: the address check (IP literals are checked
  // without DNS) is not part of what it compares.
  if (!request.include_address_check && explanation.code === 'ssrf_blocked') {
    return { verdict: 'allow', how: `policy allows (the address check would refuse: ${explanation.reason})`, audit: false };
  }
  const verdict = explanation.verdict === 'allow' ? 'allow' : 'deny';
  return { verdict, how, audit: explanation.audit === true };
}

function judge(expected: string, got: string): Outcome {
  if (expected === got) return 'agree';
  return expected === 'deny' || expected === 'reject' ? 'permissive' : 'restrictive';
}

export async function runCase(c: ParityCase): Promise<CaseResult> {
  if (c.expressible === false) return { id: c.id, outcome: 'not-expressible', how: c.not_expressible_because ?? '' };
  const loaded = load(policyText(c), c.id);
  if (c.request.layer === 'load') {
    const got = 'error' in loaded ? 'reject' : 'accept';
    return { id: c.id, outcome: judge(c.expected, got), got, how: 'error' in loaded ? loaded.error : 'loads' };
  }
  if ('error' in loaded) {
    if (c.load_refusal_ok && c.expected === 'deny') return { id: c.id, outcome: 'agree', got: 'deny', how: `refused at load: ${loaded.error}` };
    return { id: c.id, outcome: 'load-fail', how: loaded.error };
  }
  const d = await decide(loaded.policy, c.request);
  return { id: c.id, outcome: judge(c.expected, d.verdict), got: d.verdict, how: d.how, audit: d.audit };
}
