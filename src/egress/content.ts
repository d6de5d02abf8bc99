// Response bodies reaching the agent, submitted to the checkpoint as content actions when a stage
// looks at them (the directive scanner, when the policy's governance.scanner inspects
// http_responses). Only what the proxy can read is inspected: responses on inspected endpoints and
// plain HTTP; a raw tunnel carries TLS the proxy cannot read.

import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Checkpoint, ContentAction, Verdict } from '../checkpoint/index.js';
import { headerValues } from './http-util.js';
import type { EgressHooks, ResponseFilter } from './types.js';

/** Bodies read whole for inspection; larger ones are not read (see oversize). */
export const MAX_INSPECTED_BYTES = 4 * 1024 * 1024;
/** A compressed body may not expand beyond this while being decoded (a decompression bomb). */
const MAX_DECODED_BYTES = 4 * MAX_INSPECTED_BYTES;
const TEXTUAL = /^(?:text\/(?!event-stream)|application\/(?:json|xml|xhtml\+xml|javascript|ecmascript|x-www-form-urlencoded|x-ndjson|[\w.-]+\+(?:json|xml))\b)/i;

/**
 * The transformResponse hook that reads textual response bodies whole and asks the checkpoint
 * about them. Event streams are passed on as they stream (reading them whole would stall them).
 */
export function inspectContent(checkpoint: Checkpoint, hold?: EgressHooks['hold']): NonNullable<EgressHooks['transformResponse']> {
  return (ctx, _status, headers) => {
    if (!checkpoint.collects('http_response')) return undefined;
    const type = headerValues(headers, 'content-type')[0]?.trim() ?? '';
    if (type !== '' && !TEXTUAL.test(type)) return undefined;
    const origin = `${ctx.action.host}:${ctx.action.port}${ctx.decision.network?.path ?? ctx.action.target.split('?')[0]}`;
    const strict = ['quarantine', 'block'].includes(checkpoint.policyInForce().governance?.scanner?.on_detect ?? 'flag');
    const refuse = (reason: string): { refuse: Verdict } => ({
      refuse: {
        verdict: 'deny', code: 'directive_detected', stage: 'governance', reason,
        rule_missing: 'a response the directive scanner can read', hint: 'on endpoints whose responses are scanned, responses must be text the proxy can read whole',
      },
    });
    const filter: ResponseFilter = {
      maxBytes: MAX_INSPECTED_BYTES,
      // With on_detect quarantine or block, what cannot be read is not passed on; with flag, it is.
      oversize: strict ? refuse(`the response from ${origin} is larger than ${MAX_INSPECTED_BYTES} bytes, too large to scan`) : 'pass',
      filter: async (body, encoding, signal) => {
        const text = decode(body, encoding);
        if (text === undefined) {
          if (strict) return refuse(`the response from ${origin} is encoded as ${encoding ?? 'nothing known'} and cannot be scanned`);
          return { body };
        }
        const path = ctx.decision.network?.path ?? ctx.action.target.split('?')[0]!;
        const action: ContentAction = { type: 'content', source: 'http_response', origin, text, request: { host: ctx.action.host, port: ctx.action.port, method: ctx.action.method, path } };
        const decision = await checkpoint.decide(action, ctx.subject);
        const verdict = decision.verdict;
        if (verdict.verdict === 'allow') return { body };
        if (verdict.verdict !== 'ask') return { refuse: verdict };
        if (hold === undefined || verdict.approval === undefined) {
          return { refuse: { ...verdict, verdict: 'deny', code: 'approval_required', reason: `${verdict.reason}; no approver is connected` } };
        }
        const answer = await hold({
          action: ctx.action, subject: ctx.subject, decision, signal,
          // Nothing but the operator's release lets a held body through: deciding it again would scan it again.
          redecide: async () => ({ ...decision, verdict: { ...verdict, verdict: 'deny', code: 'approval_required', reason: `${verdict.reason}; only an operator's approval releases it` } }),
          release: async (actor) => {
            const released: Verdict = { ...verdict, verdict: 'allow', stage: 'tier', reason: `${verdict.reason}; released by ${actor}`, hint: '' };
            return { ...decision, verdict: released, record: checkpoint.report(action, ctx.subject, released) };
          },
        });
        return 'refuse' in answer || answer.verdict.verdict !== 'allow' ? { refuse: 'refuse' in answer ? answer.refuse : answer.verdict } : { body };
      },
    };
    return filter;
  };
}

/** The body as text, undone from its content encoding; undefined when it cannot be. */
function decode(body: Buffer, encoding: string | undefined): string | undefined {
  const options = { maxOutputLength: MAX_DECODED_BYTES };
  try {
    switch ((encoding ?? 'identity').trim().toLowerCase()) {
      case 'identity': return body.toString('utf8');
      case 'gzip': case 'x-gzip': return gunzipSync(body, options).toString('utf8');
      case 'deflate': return inflateSync(body, options).toString('utf8');
      case 'br': return brotliDecompressSync(body, options).toString('utf8');
      default: return undefined;
    }
  } catch {
    return undefined;
  }
}
