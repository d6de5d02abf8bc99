// inference.local: model calls answered in-process for one sandbox. Only the model API routes
// below exist; each call is a model_call action decided by the sandbox's checkpoint, then sent to
// the configured provider with the provider's key (which never enters the sandbox), the caller's
// credentials and unknown headers dropped, and the model set to the route's (or checked against
// the policy's inference.models). Answers stream back as they come (server-sent events are never
// buffered); the usage in them is counted against the sandbox's token budget and recorded.

import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Checkpoint, ModelCallAction, Subject, Verdict } from '../checkpoint/index.js';
import { type LocalService, refusalStatus, sendJson } from '../egress/index.js';
import type { ApiShape } from './profiles.js';
import type { ProviderRecord, ProviderStore } from './store.js';
import { jsonShapeProblem, reservation, serverTools } from './request-body.js';
import { UsageMeter } from './usage.js';

interface Route {
  api: ApiShape;
  method: 'GET' | 'POST';
  /** The part after /v1, appended to the provider's base URL. */
  suffix: string;
  /** Whether the body names a model (the routes that call one). */
  model: boolean;
}

/** Every route inference.local answers; anything else is refused and its connection closed. */
export const INFERENCE_ROUTES: Readonly<Record<string, Route>> = {
  'POST /v1/chat/completions': { api: 'openai', method: 'POST', suffix: '/chat/completions', model: true },
  'POST /v1/completions': { api: 'openai', method: 'POST', suffix: '/completions', model: true },
  'POST /v1/responses': { api: 'openai', method: 'POST', suffix: '/responses', model: true },
  'POST /v1/embeddings': { api: 'openai', method: 'POST', suffix: '/embeddings', model: true },
  'GET /v1/models': { api: 'openai', method: 'GET', suffix: '/models', model: false },
  'POST /v1/messages': { api: 'anthropic', method: 'POST', suffix: '/messages', model: true },
};

/** Request headers a caller may set; everything else (its Authorization first) is dropped. */
const PASSED_REQUEST_HEADERS = new Set(['content-type', 'accept', 'anthropic-version', 'anthropic-beta', 'openai-beta']);
/** Response headers passed back; the rest (cookies, the provider's own tracing) stay here. */
const PASSED_RESPONSE_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'cache-control', 'retry-after', 'x-request-id', 'request-id']);
const ANTHROPIC_VERSION = '2023-06-01';

export interface InferenceLimits {
  /** Largest request body accepted. Default 16 MiB. */
  maxRequestBytes: number;
  /** Request bytes one sandbox may have buffered at once, across its calls. Default 32 MiB. */
  maxBufferedBytes: number;
  /** An upstream that sends nothing for this long is abandoned (504). Default 5 minutes. */
  idleMs: number;
}

export interface ModelCallRecord {
  provider: string;
  model: string;
  api: ApiShape;
  route: string;
  via: string;
  status: number;
  latency_ms: number;
  tokens_in: number;
  tokens_out: number;
  /** When the answer carried no usage (or the caller left first): the tokens counted instead. */
  tokens_estimated?: number;
}

export interface InferenceServiceOptions {
  checkpoint: Checkpoint;
  store: ProviderStore;
  /** One record per model call that reached a provider (never the prompt or the key). */
  recordCall: (record: ModelCallRecord) => void;
  /** Extra trusted roots for https providers (tests); default Node's. */
  upstreamCA?: string | string[];
  limits?: Partial<InferenceLimits>;
}

export interface InferenceService {
  service: LocalService;
  /** Tokens (in + out) this sandbox has spent through inference.local since it started. */
  readonly tokensUsed: number;
  close(): void;
}

/** Request bytes buffered by every inference.local of this process together (the gateway's memory). */
const MAX_BUFFERED_IN_PROCESS = 64 * 1024 * 1024;
let bufferedInProcess = 0;

export function createInferenceService(options: InferenceServiceOptions): InferenceService {
  const limits: InferenceLimits = { maxRequestBytes: 16 * 1024 * 1024, maxBufferedBytes: 32 * 1024 * 1024, idleMs: 300_000, ...options.limits };
  let buffered = 0;
  /** Tokens held for calls still running (see reservation()). */
  let reserved = 0;
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true, ...(options.upstreamCA !== undefined ? { ca: options.upstreamCA } : {}) }),
  };
  let spent = 0;

  const service: LocalService = (req, res, ctx) => {
    const { action, subject, startedAt } = ctx;
    const pathname = action.target.split('?')[0]!;
    const route = INFERENCE_ROUTES[`${action.method} ${pathname}`];
    if (route === undefined) {
      // The name serves model calls only: the connection cannot be kept for other traffic.
      res.setHeader('Connection', 'close');
      const verdict: Verdict = {
        verdict: 'deny', code: 'l7_not_allowed', stage: 'policy', policy: 'inference', reason: `${action.method} ${pathname} is not a route of ${action.host}`,
        rule_missing: '', hint: `${action.host} answers: ${Object.keys(INFERENCE_ROUTES).join(', ')}`,
      };
      options.checkpoint.report(action, subject, verdict, startedAt);
      reply(res, 403, 'openai', verdict);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const room = Math.min(limits.maxRequestBytes, limits.maxBufferedBytes - buffered, MAX_BUFFERED_IN_PROCESS - bufferedInProcess);
    if (declared > room || room <= 0) {
      res.setHeader('Connection', 'close');
      const busy = declared <= limits.maxRequestBytes;
      reply(res, busy ? 503 : 413, route.api, { code: 'bad_request', reason: busy ? 'inference.local is reading too many requests at once; try again' : `the request body is larger than ${limits.maxRequestBytes} bytes` });
      return;
    }
    let held = 0;
    const hold = (bytes: number): boolean => {
      held += bytes;
      buffered += bytes;
      bufferedInProcess += bytes;
      return buffered <= limits.maxBufferedBytes && bufferedInProcess <= MAX_BUFFERED_IN_PROCESS;
    };
    const release = () => {
      buffered -= held;
      bufferedInProcess -= held;
      held = 0;
    };
    readBody(req, room, hold).then(
      (body) => call(req, res, { subject, startedAt, route, pathname, via: action.host, body }),
      () => {
        res.setHeader('Connection', 'close');
        reply(res, 413, route.api, { code: 'bad_request', reason: `the request body is larger than ${limits.maxRequestBytes} bytes, or too many requests are being read at once` });
      },
    ).catch((error: unknown) => {
      // Never let one request take the gateway down: an unexpected failure is answered, not thrown.
      if (!res.headersSent) reply(res, 500, route.api, { code: 'bad_request', reason: `inference.local could not handle the request: ${(error as Error).message}` });
      else res.destroy();
    }).finally(release);
  };

  async function call(req: http.IncomingMessage, res: http.ServerResponse, c: { subject: Subject; startedAt: number; route: Route; pathname: string; via: string; body: Buffer | undefined }): Promise<void> {
    const { route } = c;
    let json: Record<string, unknown> | undefined;
    if (route.method === 'POST') {
      const problem = c.body !== undefined ? jsonShapeProblem(c.body) : undefined;
      json = problem === undefined ? parseObject(c.body) : undefined;
      if (json === undefined) {
        reply(res, 400, route.api, { code: 'bad_request', reason: problem ?? 'the request body must be a JSON object' });
        return;
      }
    }
    const configured = options.store.routes()[route.api];
    const provider = configured !== undefined && options.store.has(configured.provider) ? options.store.get(configured.provider) : undefined;
    const asked = typeof json?.model === 'string' ? json.model : undefined;
    const tools = json !== undefined ? serverTools(json) : [];
    const modelCall: ModelCallAction = {
      type: 'model_call', api: route.api, route: c.pathname, via: c.via, tokensUsed: spent + reserved,
      ...(asked !== undefined ? { model: asked } : {}),
      ...(provider !== undefined ? { provider: provider.name } : {}),
      ...(tools.length > 0 ? { serverTools: tools } : {}),
    };
    // Held before the decision (which waits for its record), so calls decided at the same time
    // each see the others' holds; released unless the call goes out.
    const hold = reservation(json, c.body?.length ?? 0);
    reserved += hold;
    let forwarded = false;
    try {
      forwarded = await decideAndForward(req, res, c, { json, modelCall, configured, provider, asked, hold });
    } finally {
      if (!forwarded) reserved -= hold;
    }
  }

  interface Prepared {
    json: Record<string, unknown> | undefined;
    modelCall: ModelCallAction;
    configured: { provider: string; model: string } | undefined;
    provider: ProviderRecord | undefined;
    asked: string | undefined;
    hold: number;
  }

  /** True when the call went out (and holds its tokens until it ends). */
  async function decideAndForward(req: http.IncomingMessage, res: http.ServerResponse, c: { subject: Subject; startedAt: number; route: Route; pathname: string; via: string }, d: Prepared): Promise<boolean> {
    const { route } = c;
    const { json, modelCall, configured, provider, asked } = d;
    const decision = await options.checkpoint.decide(modelCall, c.subject, { startedAt: c.startedAt });
    if (decision.verdict.verdict !== 'allow' || provider === undefined || configured === undefined) {
      reply(res, refusalStatus(decision.verdict), route.api, decision.verdict);
      return false;
    }
    // What was decided is what is sent: the list read here is the one the decision used, unless
    // the policy changed in between, and then the model asked for must still be on the new list.
    const policyModels = options.checkpoint.policyInForce().inference?.models;
    if (policyModels !== undefined && asked !== undefined && route.model && !policyModels.includes(asked)) {
      reply(res, 403, route.api, { code: 'model_not_allowed', reason: `model ${asked} is not in the policy's inference.models` });
      return false;
    }
    const model = policyModels !== undefined && asked !== undefined ? asked : configured.model;
    if (route.suffix === '/models') {
      const ids = [...new Set([model, ...(policyModels ?? [])])];
      sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: provider.name })) });
      return false;
    }
    if (json !== undefined && route.model) json.model = model;
    // With a budget, a streamed OpenAI chat call must report what it spent (its last event).
    if (json !== undefined && json.stream === true && route.suffix === '/chat/completions' && options.checkpoint.policyInForce().inference?.token_budget !== undefined) {
      json.stream_options = { ...(typeof json.stream_options === 'object' && json.stream_options !== null ? json.stream_options : {}), include_usage: true };
    }
    const body = json !== undefined ? Buffer.from(JSON.stringify(json)) : undefined;
    forward(req, res, { ...c, provider, model, body, modelCall, reservation: d.hold });
    return true;
  }

  interface Forwarded {
    route: Route; pathname: string; via: string; startedAt: number; subject: Subject;
    provider: ProviderRecord; model: string; body: Buffer | undefined; modelCall: ModelCallAction;
    /** Tokens held against the budget until the call ends. */
    reservation: number;
  }

  function forward(req: http.IncomingMessage, res: http.ServerResponse, c: Forwarded): void {
    const base = options.store.endpointOf(c.provider);
    const url = new URL(base!.replace(/\/+$/, '') + c.route.suffix);
    const headers = upstreamHeaders(req.rawHeaders, c.route.api, options.store.profile(c.provider.type).auth, options.store.keyOf(c.provider));
    if (c.body !== undefined) headers['content-length'] = String(c.body.length);
    const secure = url.protocol === 'https:';
    const upstream = (secure ? https : http).request(url, { method: c.route.method, headers, agent: secure ? agents.https : agents.http });
    let settled = false;
    /**
     * Ends the call's hold on the budget: what it spent by its usage; when that is unknown, all it
     * held if the provider may have worked on it (an answer, a silence, a caller who left), and
     * nothing if it refused the call or was never reached.
     */
    const account = (usage: { input: number; output: number } | undefined, status: number) => {
      reserved -= c.reservation;
      const known = usage !== undefined && usage.input + usage.output > 0;
      const refused = status === 502 || (status >= 400 && status < 500 && status !== 499);
      spent += known ? usage.input + usage.output : refused ? 0 : c.reservation;
      options.recordCall({
        provider: c.provider.name, model: c.model, api: c.route.api, route: c.pathname, via: c.via, status,
        latency_ms: Math.round((performance.now() - c.startedAt) * 1000) / 1000,
        tokens_in: usage?.input ?? 0, tokens_out: usage?.output ?? 0, ...(known || refused ? {} : { tokens_estimated: c.reservation }),
      });
    };
    const failed = (status: number, reason: string) => {
      if (settled) return;
      settled = true;
      account(undefined, status);
      upstream.destroy();
      const verdict: Verdict = { verdict: 'deny', code: 'upstream_error', stage: 'transport', policy: 'inference', reason, rule_missing: '', hint: 'check the provider with: warden inference get' };
      options.checkpoint.report(c.modelCall, c.subject, verdict, c.startedAt);
      if (res.headersSent) res.destroy();
      else reply(res, status, c.route.api, verdict);
    };
    upstream.setTimeout(limits.idleMs, () => failed(504, `provider ${c.provider.name} sent nothing for ${limits.idleMs / 1000} s`));
    upstream.on('error', (error) => failed(502, `provider ${c.provider.name} could not be reached at ${url.origin}: ${error.message}`));
    res.on('close', () => {
      if (res.writableFinished || settled) return;
      // The caller left before the end: what the provider spent is unknown, so all it held counts.
      settled = true;
      account(undefined, 499);
      upstream.destroy();
    });
    upstream.on('response', (answer) => {
      const meter = new UsageMeter(answer.headers['content-type']);
      res.socket?.setNoDelay(true);
      res.writeHead(answer.statusCode ?? 502, responseHeaders(answer.rawHeaders));
      let corked = false;
      answer.on('data', (chunk: Buffer) => {
        meter.push(chunk);
        // Events that arrive in the same turn of the event loop leave in one TLS record: no delay
        // is added, and a fast stream is not slowed by a record (and a system call) per event.
        if (!corked) {
          corked = true;
          res.cork();
          process.nextTick(() => {
            corked = false;
            res.uncork();
          });
        }
        if (!res.write(chunk)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('error', () => failed(502, `provider ${c.provider.name} broke off its answer`));
      answer.on('end', () => {
        if (settled) return;
        settled = true;
        res.end();
        account(meter.end(), answer.statusCode ?? 0);
      });
    });
    upstream.end(c.body);
  }

  return {
    service,
    get tokensUsed() {
      return spent;
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function upstreamHeaders(raw: readonly string[], api: ApiShape, auth: { header: string; scheme?: string } | undefined, key: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (PASSED_REQUEST_HEADERS.has(name)) headers[name] = raw[i + 1]!;
  }
  headers['user-agent'] = 'warden-inference';
  // Usage is read from the answer as it passes: it must not be compressed.
  headers['accept-encoding'] = 'identity';
  if (api === 'anthropic') headers['anthropic-version'] ??= ANTHROPIC_VERSION;
  if (auth !== undefined && key !== undefined) headers[auth.header] = auth.scheme !== undefined ? `${auth.scheme} ${key}` : key;
  return headers;
}

function responseHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (PASSED_RESPONSE_HEADERS.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/** An error in the shape the caller's SDK parses (OpenAI's or Anthropic's), with warden's code. */
function reply(res: http.ServerResponse, status: number, api: ApiShape, v: { code: string; reason: string; hint?: string }): void {
  const message = v.hint ? `${v.reason} (${v.hint})` : v.reason;
  const body = api === 'anthropic'
    ? { type: 'error', error: { type: anthropicErrorType(status), message }, code: v.code }
    : { error: { message, type: 'warden', code: v.code } };
  sendJson(res, status, body);
}

function anthropicErrorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 403) return 'permission_error';
  if (status === 400 || status === 413) return 'invalid_request_error';
  return 'api_error';
}

function readBody(req: http.IncomingMessage, max: number, hold: (bytes: number) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max || !hold(chunk.length)) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error('too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseObject(body: Buffer | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
