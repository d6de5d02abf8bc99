// The gateway's provider and inference operations. Values arrive over the gateway's socket
// (from the CLI, which read them from the environment or stdin) and are written to WARDEN_HOME
// with owner-only permissions; what goes back, and into the audit log, names variables only.

import http from 'node:http';
import https from 'node:https';
import type { ApiShape, ProviderRecord, ProviderStore } from '../inference/index.js';
import { ProviderError } from '../inference/index.js';
import type { OpArgs } from './api.js';
import { GatewayError } from './protocol.js';

const VERIFY_TIMEOUT_MS = 15_000;
const MODEL_LIST_BYTES = 4 * 1024 * 1024;

/** The ids of an OpenAI- or Anthropic-shaped model listing ({data: [{id}]}), sorted; none for anything else. */
export function modelIds(body: string): string[] {
  try {
    const data = (JSON.parse(body) as { data?: unknown }).data;
    if (!Array.isArray(data)) return [];
    const ids = data.map((entry) => (entry as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string' && id !== '');
    return [...new Set(ids)].sort();
  } catch {
    return [];
  }
}

export class ProviderOps {
  constructor(
    private readonly store: ProviderStore,
    private readonly audit: (kind: string, payload: unknown, actor: string) => void,
  ) {}

  create(args: OpArgs<'provider.create'>, actor: string) {
    const record = this.guard(() => this.store.create({
      name: args.name, type: args.type, credentials: args.credentials, hosts: args.hosts ?? [],
      ...(args.endpoint !== undefined ? { endpoint: args.endpoint } : {}),
    }));
    this.audit('provider.created', this.summary(record), actor);
    return this.store.view(record);
  }

  list() {
    return this.store.list().map((record) => this.store.view(record));
  }

  get(args: OpArgs<'provider.get'>) {
    return this.store.view(this.guard(() => this.store.get(args.name)));
  }

  update(args: OpArgs<'provider.update'>, actor: string) {
    const record = this.guard(() => this.store.update(args.name, {
      ...(args.endpoint !== undefined ? { endpoint: args.endpoint } : {}),
      ...(args.credentials !== undefined ? { credentials: args.credentials } : {}),
      ...(args.hosts !== undefined ? { hosts: args.hosts } : {}),
    }));
    this.audit('provider.updated', { ...this.summary(record), changed: Object.keys(args.credentials ?? {}).sort() }, actor);
    return this.store.view(record);
  }

  delete(args: OpArgs<'provider.delete'>, actor: string) {
    this.guard(() => this.store.delete(args.name));
    this.audit('provider.deleted', { name: args.name }, actor);
    return { name: args.name };
  }

  async setRoute(args: OpArgs<'inference.set'>, actor: string) {
    const record = this.guard(() => this.store.get(args.provider));
    const api = this.store.profile(record.type).api;
    if (api === undefined) throw new GatewayError('bad_request', `provider ${record.name} (${record.type}) serves no models; use a model provider (openai, anthropic, nvidia, ollama, vllm, openai-compatible)`);
    if (args.verify !== false) await this.verify(record, api, ' (--no-verify switches anyway)');
    this.store.setRoute(api, { provider: record.name, model: args.model });
    this.audit('inference.route', { api, provider: record.name, model: args.model, verified: args.verify !== false }, actor);
    return this.routes();
  }

  /**
   * Whether a provider (a new one, or an existing one with these changes) answers its model
   * listing, with the models it lists; nothing is written. `changed` says what saving it would
   * change ('created' for a new one; variable names, never values).
   */
  async check(args: OpArgs<'provider.check'>) {
    const { record, exists, changed } = this.guard(() => this.store.preview(args.name, args.type, {
      ...(args.endpoint !== undefined ? { endpoint: args.endpoint } : {}),
      ...(args.credentials !== undefined ? { credentials: args.credentials } : {}),
    }));
    const api = this.store.profile(record.type).api;
    if (api === undefined) throw new GatewayError('bad_request', `provider type ${record.type} serves no models; use a model provider (openai, anthropic, nvidia, ollama, vllm, openai-compatible)`);
    const models = await this.verify(record, api, '');
    return { name: record.name, type: record.type, api, endpoint: this.store.endpointOf(record) ?? null, exists, changed, models };
  }

  routes() {
    const routes: Partial<Record<ApiShape, { provider: string; model: string; endpoint: string | null }>> = {};
    for (const [api, route] of Object.entries(this.store.routes()) as Array<[ApiShape, { provider: string; model: string }]>) {
      const endpoint = this.store.has(route.provider) ? this.store.endpointOf(this.store.get(route.provider)) ?? null : null;
      routes[api] = { ...route, endpoint };
    }
    return { routes };
  }

  /**
   * The upstream answers its model listing with this key: a wrong key or URL fails here, before
   * anything changes. Resolves to the model ids it lists (none when its answer lists none).
   */
  private verify(record: ProviderRecord, api: ApiShape, override: string): Promise<string[]> {
    const endpoint = this.store.endpointOf(record)!;
    const url = new URL(endpoint.replace(/\/+$/, '') + '/models');
    const auth = this.store.profile(record.type).auth;
    const key = this.store.keyOf(record);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'warden-inference' };
    if (api === 'anthropic') headers['anthropic-version'] = '2023-06-01';
    if (auth !== undefined && key !== undefined) headers[auth.header] = auth.scheme !== undefined ? `${auth.scheme} ${key}` : key;
    const fail = (why: string) => new GatewayError('verify_failed', `provider ${record.name} did not answer ${url.origin}${url.pathname}: ${why}. Nothing was changed${override}`);
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).get(url, { headers, timeout: VERIFY_TIMEOUT_MS }, (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(fail(`HTTP ${res.statusCode}${res.statusCode === 401 || res.statusCode === 403 ? ' (is the key right?)' : ''}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // A listing is small; past this, the ids are not needed to know that it answered.
          if (size <= MODEL_LIST_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve(size <= MODEL_LIST_BYTES ? modelIds(Buffer.concat(chunks).toString('utf8')) : []));
        res.on('error', (error) => reject(fail(error.message)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${VERIFY_TIMEOUT_MS / 1000} s`)));
      req.on('error', (error) => reject(fail(error.message)));
    });
  }

  private summary(record: ProviderRecord) {
    return { name: record.name, type: record.type, credentials: Object.keys(record.credentials).sort(), hosts: record.hosts, endpoint: record.endpoint ?? null };
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      // The same codes as for sandboxes: not_found for a missing name, exists for a name taken.
      if (error instanceof ProviderError) throw new GatewayError(error.code === 'not_found' || error.code === 'exists' ? error.code : 'bad_request', error.message);
      throw error;
    }
  }
}
