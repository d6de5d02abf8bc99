// warden.local/v1/proposals: an agent inside a sandbox proposes a rule, with its reason, to the
// operator's approvals inbox (approvals.ts). Served in-process by the sandbox's egress proxy, like
// inference.local. Only where the policy says `governance.proposals.allow: true`; without it every
// call is refused (403 proposals_disabled).
//
// Security invariants: who proposed (the sandbox, the calling binary, its pid and parent chain) is
// the proxy's verified identity of the connection, never anything the body says; a caller the
// proxy could not identify is refused. A proposal is never approved by itself: it waits, holding
// nothing, until an operator writes its rule (approve --always) or denies it. Bounded per sandbox
// in number (max_pending) and in size (MAX_PROPOSAL_BYTES), and it can only ask for the narrowest
// rule: one exact host, one port, one binary.
import type http from 'node:http';
import { z } from 'zod';
import type { ApprovalDraft, DraftChange } from '../checkpoint/index.js';
import { type LocalService, sendJson } from '../egress/index.js';
import { checkResolution, isIpLiteral, type Policy } from '../policy/index.js';
import type { ApprovalView } from './approvals.js';

/** The name agents post proposals to. */
export const WARDEN_HOST = 'warden.local';
/** Largest proposal body read; a longer one is refused (413) unread. */
export const MAX_PROPOSAL_BYTES = 8 * 1024;
/** Pending proposals per sandbox when the policy does not say. */
export const DEFAULT_MAX_PENDING_PROPOSALS = 10;
const MAX_REASON = 500;

const proposalBody = z.strictObject({
  host: z.string().min(1).max(253).regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9a-fA-F:.]+$/, { error: 'host: an exact host name or IP address (no wildcards, no port)' }),
  port: z.number({ error: 'port: a number from 1 to 65535' }).int().min(1).max(65535),
  binary: z.string().startsWith('/', { error: 'binary: an absolute path' }).max(4096).regex(/^[^\x00-\x1f\x7f-\x9f]*$/, { error: 'binary: no control characters' }).optional(),
  reason: z.string({ error: 'reason: say why the agent needs it' }).trim().min(1, { error: 'reason: say why the agent needs it' }).max(MAX_REASON, { error: `reason: at most ${MAX_REASON} characters` })
    // Shown on the operator's terminal: no control characters (no escape sequences, one line).
    .regex(/^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/, { error: 'reason: one line of text, no control characters' }),
}, { error: 'expected a JSON object {host, port, reason[, binary]}' });

export type ProposalOutcome =
  | { filed: ApprovalView; created: boolean }
  | { refused: 'limit' | 'invalid' | 'in_force'; message: string };

export interface ProposalDeps {
  sandbox: string;
  policy(): Policy;
  /**
   * Files the proposal in the inbox (`limit`: the sandbox has max_pending proposals waiting already;
   * `invalid`: its rule does not apply to the policy; `inForce`: the policy admits it already).
   */
  propose(draft: ApprovalDraft, maxPending: number): ProposalOutcome;
}

export function proposalService(deps: ProposalDeps): LocalService {
  return (req, res, ctx) => {
    if (`${req.method ?? ''} ${ctx.action.target.split('?')[0]}` !== 'POST /v1/proposals') {
      sendJson(res, 404, { error: `${WARDEN_HOST} answers POST /v1/proposals only`, code: 'not_found' });
      return;
    }
    const setting = deps.policy().governance?.proposals;
    if (setting?.allow !== true) {
      refuse(req, res, 403, { error: `sandbox ${deps.sandbox}'s policy does not let agents propose rules (governance.proposals.allow)`, code: 'proposals_disabled' });
      return;
    }
    const proposer = ctx.subject.process;
    if (proposer === null) {
      refuse(req, res, 403, { error: 'the proxy could not identify the calling process, so nothing can be proposed in its name', code: 'identity_unknown' });
      return;
    }
    if ((proposer.sharedWith?.length ?? 0) > 0) {
      refuse(req, res, 403, { error: 'the connection is shared by several programs, so no one of them can propose in its name', code: 'identity_ambiguous' });
      return;
    }
    void readBody(req, MAX_PROPOSAL_BYTES).then((body) => {
      if (body === undefined) {
        refuse(req, res, 413, { error: `a proposal is at most ${MAX_PROPOSAL_BYTES} bytes`, code: 'proposal_too_large' });
        return;
      }
      let parsed: z.infer<typeof proposalBody>;
      try {
        const result = proposalBody.safeParse(JSON.parse(body.toString('utf8')));
        if (!result.success) {
          sendJson(res, 400, { error: result.error.issues[0]!.message, code: 'bad_proposal' });
          return;
        }
        parsed = result.data;
      } catch {
        sendJson(res, 400, { error: 'the body is not JSON', code: 'bad_proposal' });
        return;
      }
      const binary = parsed.binary ?? proposer.exe;
      const host = parsed.host.toLowerCase();
      // An address the SSRF guard refuses by default is named exactly (allowed_ips), as an operator's draft names it.
      const needsIps = isIpLiteral(host) && !checkResolution([host], []).ok;
      const changes: DraftChange[] = [{ op: 'add-endpoint', host, port: parsed.port, binaries: [binary], ...(needsIps ? { allowedIps: [host] } : {}) }];
      const draft: ApprovalDraft = {
        key: JSON.stringify(['proposal', host, parsed.port, binary]),
        host, port: parsed.port, binary, ancestors: proposer.ancestors.map((a) => a.exe),
        code: 'no_endpoint', reason: `proposed by the agent: ${parsed.reason}`, ruleMissing: `an endpoint ${host}:${parsed.port} for ${binary}`,
        ...(needsIps ? { addresses: [host] } : {}),
        changes,
        proposal: { reason: parsed.reason, binary: proposer.exe, ancestors: proposer.ancestors.map((a) => a.exe), pid: proposer.pid },
      };
      const maxPending = setting.max_pending ?? DEFAULT_MAX_PENDING_PROPOSALS;
      const outcome = deps.propose(draft, maxPending);
      if ('refused' in outcome) {
        const [status, code] = outcome.refused === 'limit' ? [429, 'proposal_limit'] : outcome.refused === 'in_force' ? [409, 'already_allowed'] : [400, 'bad_proposal'];
        sendJson(res, status, { error: outcome.message, code });
        return;
      }
      sendJson(res, 202, {
        id: outcome.filed.id, state: outcome.filed.state, code: 'proposal_pending', created: outcome.created,
        hint: 'an operator decides it (warden approvals approve ID --always, or deny); nothing is allowed until then',
      });
    }, () => res.destroy());
  };
}

/** Answers without reading the body; the connection is closed after, so unread bytes cannot be taken for a next request. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  res.setHeader('Connection', 'close');
  sendJson(res, status, body);
  req.resume();
}

/** The body, or undefined past `limit` bytes (then nothing more is read). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
