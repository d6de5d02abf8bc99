// The policy stage for network actions: the connection rule (host, port, binary, its hash), then
// for inspected endpoints the request rule, then name resolution and the address check (SSRF
// guard, allowed_ips). The matchers are the policy component's; this stage puts them in order.

import {
  type BinaryLedger, checkInspectedRequest, checkResolution, type ConnectionDecision, hostGatewayAddresses, isIpLiteral, type PolicyCompiler,
  normaliseHost, type PolicyVerdict, ssrfVerdict,
} from '../../policy/index.js';
import type { NetworkAction, NetworkFacts, Stage, StageContext, Verdict } from '../types.js';

/** warden's own name for model calls (answered in-process). */
export const INFERENCE_LOCAL = 'inference.local';

function reroutes(hosts: readonly string[] | undefined, host: string): boolean {
  if (hosts === undefined) return false;
  const name = normaliseHost(host);
  return name !== null && hosts.includes(name);
}

export function fromPolicy(v: PolicyVerdict): Verdict {
  return { ...v, stage: 'policy' };
}

export function networkPolicyStage(compiler: PolicyCompiler, ledger: BinaryLedger): Stage {
  return {
    name: 'network policy',
    kind: 'policy',
    run(ctx) {
      const action = ctx.action;
      if (action.type !== 'connection' && action.type !== 'http_request') return;
      // The identity stage ran first: the process is known here.
      const process = ctx.subject.process!;
      if (reroutes(ctx.policy.inference?.reroute, action.host)) {
        // A public model API listed in inference.reroute: its calls are served by inference.local
        // (and decided there as model calls); nothing leaves for the real host.
        ctx.verdict = {
          verdict: 'reroute', code: 'rerouted', stage: 'policy', policy: 'inference', rule: 'inference.reroute', rerouteTo: INFERENCE_LOCAL,
          reason: `${action.host} is rerouted to ${INFERENCE_LOCAL} by the policy's inference.reroute`, rule_missing: '', hint: '',
        };
        return;
      }
      const conn = compiler.compiled(ctx.policy).decideConnection(action.host, action.port, process, ledger);
      if (conn.verdict === 'deny') {
        ctx.verdict = fromPolicy(conn);
        return;
      }
      const facts: NetworkFacts = { matches: conn.matches, raw: conn.raw, addresses: [] };
      ctx.network = facts;
      let verdict: PolicyVerdict = conn;
      if (action.type === 'http_request') {
        facts.path = action.target.split('?')[0]!;
        facts.forwardPath = action.target;
        if (!conn.raw) {
          const checked = checkInspectedRequest(conn, { method: action.method, pathAndQuery: action.target, upgrade: action.upgrade });
          if (checked.path !== undefined) facts.path = checked.path;
          if (checked.verdict === 'deny') {
            ctx.verdict = fromPolicy(checked);
            return;
          }
          verdict = checked;
          facts.forwardPath = checked.forwardPath;
        }
      }
      ctx.verdict = fromPolicy(verdict);
      return checkAddresses(ctx, action, conn, facts);
    },
  };
}

/**
 * Resolves the destination (pinned by the caller), then checks every address. Re-checked on every
 * request, also inside a tunnel: allowed_ips may have changed since it was opened.
 */
async function checkAddresses(ctx: StageContext, action: NetworkAction, conn: ConnectionDecision, facts: NetworkFacts): Promise<void> {
  let addresses: string[] | undefined;
  if (action.type === 'http_request' && action.addresses) addresses = action.addresses;
  else if (isIpLiteral(action.host)) addresses = [action.host];
  else if (hostGatewayAddresses(action.host)) addresses = hostGatewayAddresses(action.host);
  else {
    try {
      addresses = await ctx.resolve(action.host);
    } catch (error) {
      ctx.verdict = {
        verdict: 'deny',
        code: 'cannot_resolve',
        stage: 'transport',
        ...(conn.policy !== undefined ? { policy: conn.policy } : {}),
        reason: `cannot resolve ${action.host}: ${(error as Error).message}`,
        rule_missing: '',
        hint: 'the name does not resolve from the host warden runs on',
      };
      return;
    }
  }
  if (addresses === undefined) {
    ctx.explain?.notes.push(unresolvedNote(action.host, conn));
    return;
  }
  const check = checkResolution(addresses, conn.matches.map((m) => m.allowedIps));
  if (!check.ok) {
    ctx.verdict = fromPolicy(ssrfVerdict(conn, action.host, check));
    return;
  }
  facts.addresses = check.addresses;
  if (ctx.explain) {
    const allowedIps = conn.matches.flatMap((m) => m.endpoint.allowed_ips ?? []);
    const passes = isIpLiteral(action.host) ? `address ${check.addresses.join(', ')} passes` : `${action.host} resolves to ${check.addresses.join(', ')}, which ${check.addresses.length === 1 ? 'passes' : 'pass'}`;
    ctx.explain.notes.push(`${passes} the SSRF guard${allowedIps.length > 0 ? ` (allowed_ips: ${allowedIps.join(', ')})` : ''}`);
  }
}

function unresolvedNote(host: string, conn: ConnectionDecision): string {
  const allowedIps = conn.matches.flatMap((m) => m.endpoint.allowed_ips ?? []);
  return `${host} is not resolved here (give --resolve ${host}:ADDRESS to check an address): the proxy refuses it if it resolves to a loopback, private, CGNAT, unique-local or link-local address, ` +
    (allowedIps.length > 0
      ? `and with allowed_ips it must resolve only to addresses listed there (${allowedIps.join(', ')}); loopback only when named exactly, link-local never`
      : "unless the endpoint's allowed_ips names the address (loopback only exactly, link-local never)");
}
