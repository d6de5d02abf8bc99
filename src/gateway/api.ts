// The gateway's API: one table of operations, each with the schema of its request and of its
// reply. The client and the daemon share it, so a request is checked before it is sent and again
// when it arrives (the daemon trusts no caller), and a reply is checked before the CLI uses it.

import { z } from 'zod';

const name = z.string().min(1, { error: 'a sandbox name is required' });
const stringMap = z.record(z.string(), z.string(), { error: 'expected a mapping of names to strings' });
const strings = (what: string) => z.array(z.string(), { error: `${what} must be a list of strings` });
const reason = z.string().optional();

const ttySize = z.object({ rows: z.number().int().min(1).max(65535), cols: z.number().int().min(1).max(65535) }, { error: 'tty must be null or {rows, cols} between 1 and 65535' });

const endpointAccess = z.enum(['read-only', 'read-write', 'full']);
const scope = { policyName: z.string().min(1).optional() };
const port = z.number().int().min(1).max(65535);

/** A change `warden policy update` sends; the gateway applies the list to the current policy. */
export const policyChange = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('add-endpoint'), host: z.string(), port, binaries: z.array(z.string()).optional(), allowedIps: z.array(z.string()).optional(),
    protocol: z.enum(['rest', 'websocket']).optional(), access: endpointAccess.optional(), enforcement: z.enum(['enforce', 'audit']).optional(), ...scope,
  }),
  z.object({ op: z.literal('remove-endpoint'), host: z.string(), port, ...scope }),
  z.object({ op: z.literal('add-binary'), path: z.string(), policyName: z.string().min(1) }),
  z.object({ op: z.literal('remove-binary'), path: z.string(), ...scope }),
  z.object({ op: z.literal('add-rule'), host: z.string(), port, method: z.string(), path: z.string(), ...scope }),
  z.object({ op: z.literal('remove-rule'), host: z.string(), port, method: z.string(), path: z.string(), ...scope }),
  z.object({ op: z.literal('add-deny'), host: z.string(), port, method: z.string(), path: z.string(), ...scope }),
], { error: 'expected a policy change with an "op"' });

const approvalMode = z.enum(['deny', 'ask'], { error: 'the approval mode is deny or ask' });
const approvalId = z.number({ error: 'an approval id is a number' }).int().min(1);
const approvalView = z.looseObject({
  id: z.number(), sandbox: z.string(), state: z.enum(['pending', 'approved', 'denied', 'closed']), host: z.string(), port: z.number(),
  binary: z.string(), ancestors: z.array(z.string()), method: z.string().optional(), path: z.string().optional(), code: z.string(),
  reason: z.string(), ruleMissing: z.string(), addresses: z.array(z.string()).optional(), changes: z.array(z.unknown()),
  hits: z.number(), waiting: z.number(), gone: z.number(), version: z.number(), firstSeen: z.string(), lastSeen: z.string(),
  decidedBy: z.string().nullable(), decidedAt: z.string().nullable(), decision: z.string().nullable(),
  proposal: z.looseObject({ reason: z.string(), binary: z.string(), ancestors: z.array(z.string()), pid: z.number() }).optional(),
});

const forwardSpec = z.object({ port, hostPort: port });
const forwardView = z.looseObject({ sandbox: z.string(), port: z.number(), hostPort: z.number(), active: z.boolean(), problem: z.string().optional() });

/**
 * A sandbox of a blueprint (src/blueprint): its sealed layer, mounted read-only where the layer's
 * manifest says, and read-only files placed below /.warden/blueprint (its configuration).
 */
const blueprintAttachment = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  layer: z.string().min(1),
  files: z.array(z.object({ path: z.string().regex(/^\/\.warden\/blueprint\/[A-Za-z0-9._-]+$/, { error: 'a file name below /.warden/blueprint' }), content: z.string().max(1024 * 1024) })).max(16),
  /** Values the launcher needs again later (the agent's gateway token, for its dashboard's URL); kept on the host, owner-only. */
  values: z.record(z.string(), z.string()).optional(),
});

const sandboxView = z.looseObject({
  name: z.string(),
  state: z.enum(['creating', 'running', 'stopped', 'failed']),
  createdAt: z.string(),
  updatedAt: z.string(),
  policyRev: z.number(),
  workdir: z.string(),
  env: stringMap,
  command: z.array(z.string()),
  presets: z.array(z.string()),
  approvalMode: approvalMode.optional(),
  pid: z.number().optional(),
  startedAt: z.string().optional(),
  execs: z.number().optional(),
  reusedWorkdir: z.string().optional(),
  mainExitCode: z.number().optional(),
  blueprint: z.string().optional(),
  forwards: z.array(forwardView).optional(),
});

const providerName = z.string().min(1, { error: 'a provider name is required' });
const providerView = z.looseObject({
  name: z.string(), type: z.string(), description: z.string(), endpoint: z.string().nullable(), api: z.enum(['openai', 'anthropic']).nullable(),
  credentials: z.array(z.string()), hosts: z.array(z.string()), created_at: z.string(), updated_at: z.string(),
});
const inferenceRoute = z.looseObject({ provider: z.string(), model: z.string(), endpoint: z.string().nullable() });
const inferenceRoutes = z.looseObject({ routes: z.looseObject({ openai: inferenceRoute.optional(), anthropic: inferenceRoute.optional() }) });

const revision = z.looseObject({
  name: z.string(), rev: z.number(), live: z.boolean(), closedConnections: z.number(), diff: z.unknown(),
  unchanged: z.boolean().optional(), inForce: z.array(z.string()).optional(),
});

const auditTailRecord = z.looseObject({
  seq: z.number(), ts: z.string(), kind: z.string(), sandbox: z.string().nullable(), actor: z.string().nullable(), summary: z.string(),
});
const policyHistoryEntry = z.looseObject({
  rev: z.number(), createdAt: z.string(), author: z.string(), reason: z.string().nullable(), diff: z.array(z.string()),
});

export const OPS = {
  ping: {
    request: z.object({}),
    reply: z.looseObject({ pid: z.number(), sandboxes: z.number(), auditFault: z.string().optional() }),
  },
  'gateway.stop': { request: z.object({}), reply: z.looseObject({ pid: z.number() }) },
  'sandbox.list': { request: z.object({}), reply: z.array(sandboxView) },
  'sandbox.get': { request: z.object({ name }), reply: sandboxView },
  'sandbox.create': {
    request: z.object({
      name, policy: z.unknown(), workdir: z.string().optional(), env: stringMap.optional(), command: strings('command').optional(),
      presets: strings('presets').optional(), providers: strings('providers').optional(), reason, approvalMode: approvalMode.optional(),
      blueprint: blueprintAttachment.optional(), forwards: z.array(forwardSpec).max(64).optional(),
    }),
    reply: sandboxView,
  },
  /** The approval mode (live), and/or the main command (recorded, and started now if the sandbox runs without one running). */
  'sandbox.update': {
    request: z.object({ name, approvalMode: approvalMode.optional(), command: strings('command').min(1).optional() })
      .refine((args) => args.approvalMode !== undefined || args.command !== undefined, { error: 'nothing to update: give approvalMode or command' }),
    reply: sandboxView,
  },
  'forward.add': { request: z.object({ name, port, hostPort: port.optional() }), reply: forwardView },
  'forward.remove': { request: z.object({ name, port }), reply: z.looseObject({ sandbox: z.string(), port: z.number(), hostPort: z.number() }) },
  'forward.list': { request: z.object({ name: z.string().optional() }), reply: z.array(forwardView) },
  'approvals.list': {
    request: z.object({ sandbox: z.string().optional(), state: z.enum(['pending', 'approved', 'denied', 'closed']).optional(), all: z.boolean().optional() }),
    reply: z.array(approvalView),
  },
  'approvals.approve': {
    request: z.object({ id: approvalId, always: z.boolean().optional(), version: z.number().int().optional() }),
    reply: approvalView.extend({ rev: z.number().optional(), released: z.number() }),
  },
  'approvals.deny': { request: z.object({ id: approvalId, version: z.number().int().optional() }), reply: approvalView.extend({ released: z.number() }) },
  /**
   * After the reply the connection carries one JSON line per approval event (ApprovalEvent) until
   * the client closes it; with `decisions`, also every decision of the sandboxes' checkpoints
   * ({event: 'decision', record}) as it is recorded (`warden term`'s live stream).
   */
  /** With `audit`, also every audit record once committed ({event: 'audit', record}, an AuditTailRecord): the TUI's audit tail. */
  'approvals.watch': {
    request: z.object({ sandbox: z.string().optional(), decisions: z.boolean().optional(), audit: z.boolean().optional() }),
    reply: z.looseObject({ timeoutMs: z.number() }),
  },
  /** The newest audit records (payloads cut to a summary), oldest first: where the pushed tail starts. */
  'audit.tail': {
    request: z.object({ limit: z.number().int().min(1).max(1000).optional(), sandbox: z.string().optional() }),
    reply: z.array(auditTailRecord),
  },
  /** A sandbox's policy revisions, oldest first, each with its difference to the one before as diff lines. */
  'policy.history': { request: z.object({ name }), reply: z.array(policyHistoryEntry) },
  'sandbox.start': { request: z.object({ name }), reply: sandboxView },
  'sandbox.stop': { request: z.object({ name }), reply: sandboxView },
  'sandbox.delete': { request: z.object({ name, purge: z.boolean().optional() }), reply: z.looseObject({ name: z.string(), purged: z.string().nullable(), removed: z.array(z.string()), kept: z.array(z.string()) }) },
  'policy.set': { request: z.object({ name, policy: z.unknown(), reason }), reply: revision },
  'policy.update': { request: z.object({ name, changes: z.array(policyChange).min(1, { error: 'no changes given' }), reason }), reply: revision },
  'policy.add-preset': { request: z.object({ name, preset: z.string().min(1), reason }), reply: revision },
  'provider.create': {
    request: z.object({ name: providerName, type: z.string().min(1), endpoint: z.string().optional(), credentials: stringMap, hosts: strings('hosts').optional() }),
    reply: providerView,
  },
  'provider.list': { request: z.object({}), reply: z.array(providerView) },
  'provider.get': { request: z.object({ name: providerName }), reply: providerView },
  'provider.update': {
    request: z.object({ name: providerName, endpoint: z.string().optional(), credentials: stringMap.optional(), hosts: strings('hosts').optional() }),
    reply: providerView,
  },
  'provider.delete': { request: z.object({ name: providerName }), reply: z.looseObject({ name: z.string() }) },
  'inference.set': { request: z.object({ provider: providerName, model: z.string().min(1), verify: z.boolean().optional() }), reply: inferenceRoutes },
  'inference.get': { request: z.object({}), reply: inferenceRoutes },
  /** Whether a provider (new, or existing with these changes) answers, and the models it lists; saves nothing. */
  'provider.check': {
    request: z.object({ name: providerName, type: z.string().min(1), endpoint: z.string().optional(), credentials: stringMap.optional() }),
    reply: z.looseObject({
      name: z.string(), type: z.string(), api: z.enum(['openai', 'anthropic']), endpoint: z.string().nullable(),
      exists: z.boolean(), changed: z.array(z.string()), models: z.array(z.string()),
    }),
  },
  exec: {
    request: z.object({
      name, argv: strings('argv'), env: stringMap.optional(), cwd: z.string().optional(), tty: ttySize.nullable().optional(),
      /** Whether the sandbox's network denials are printed on the client's stderr meanwhile (default: yes). */
      denials: z.boolean().optional(),
    }),
    reply: z.looseObject({ sandbox: z.string() }),
  },
} as const;

export type Op = keyof typeof OPS;
export type OpRequest<O extends Op> = z.input<(typeof OPS)[O]['request']>;
export type OpArgs<O extends Op> = z.output<(typeof OPS)[O]['request']>;
export type OpReply<O extends Op> = z.output<(typeof OPS)[O]['reply']>;

export function isOp(op: unknown): op is Op {
  return typeof op === 'string' && Object.hasOwn(OPS, op);
}

/** The request's arguments checked against the op's schema, or the first problem in words. */
export function parseArgs<O extends Op>(op: O, args: unknown): { ok: true; args: OpArgs<O> } | { ok: false; message: string } {
  const parsed = OPS[op].request.safeParse(args ?? {});
  if (parsed.success) return { ok: true, args: parsed.data as OpArgs<O> };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { ok: false, message: `${op}: ${where}${issue.message}` };
}

/** A reply checked against the op's schema: a gateway of another version fails here, clearly. */
export function parseReply<O extends Op>(op: O, result: unknown): OpReply<O> | undefined {
  const parsed = OPS[op].reply.safeParse(result);
  return parsed.success ? parsed.data as OpReply<O> : undefined;
}
