// Providers and inference routes, kept in WARDEN_HOME with owner-only permissions: one JSON file
// per provider under providers/ (its credential values included) and inference.json (which
// provider and model serve each API shape). Files are replaced atomically (write, then rename),
// so a reader sees the old or the new version, never half of one; readers re-read when a file's
// modification time changes, so `warden inference set` reaches every sandbox with no restart.
//
// Security invariants: values are registered with the audit component's redaction the moment
// they are read, so no log, event, record or CLI output can carry them; nothing here ever
// returns a value to a caller that prints (ProviderView has variable names only).

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { registerSecret } from '../audit/index.js';
import { normaliseHost } from '../policy/index.js';
import { type ApiShape, type ProviderProfile, providerProfiles } from './profiles.js';

export interface ProviderRecord {
  name: string;
  type: string;
  /** Model providers: the base URL, when it differs from the profile's. */
  endpoint?: string;
  /** Variable name -> secret value. */
  credentials: Record<string, string>;
  /** Hosts where the credentials may be used, besides the profile's. */
  hosts: string[];
  createdAt: string;
  updatedAt: string;
}

/** What may be shown: never a value. */
export interface ProviderView {
  name: string;
  type: string;
  description: string;
  endpoint: string | null;
  api: ApiShape | null;
  credentials: string[];
  hosts: string[];
  created_at: string;
  updated_at: string;
}

export interface InferenceRoute {
  provider: string;
  model: string;
}

export type InferenceRoutes = Partial<Record<ApiShape, InferenceRoute>>;

export class ProviderError extends Error {
  constructor(message: string, readonly code: 'bad_name' | 'not_found' | 'exists' | 'bad_type' | 'bad_provider' | 'in_use') {
    super(message);
  }
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function checkProviderName(name: string): void {
  if (!NAME.test(name)) throw new ProviderError(`invalid provider name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit`, 'bad_name');
}

export class ProviderStore {
  readonly dir: string;
  private readonly routesFile: string;
  private cache: { stamp: string; providers: Map<string, ProviderRecord>; routes: InferenceRoutes } | undefined;

  constructor(home: string, private readonly profiles: Map<string, ProviderProfile> = providerProfiles()) {
    this.dir = path.join(home, 'providers');
    this.routesFile = path.join(home, 'inference.json');
  }

  profile(type: string): ProviderProfile {
    const profile = this.profiles.get(type);
    if (!profile) throw new ProviderError(`unknown provider type ${JSON.stringify(type)}; one of: ${[...this.profiles.keys()].join(', ')}`, 'bad_type');
    return profile;
  }

  profileTypes(): ProviderProfile[] {
    return [...this.profiles.values()];
  }

  list(): ProviderRecord[] {
    return [...this.snapshot().providers.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): ProviderRecord {
    const found = this.snapshot().providers.get(name);
    if (!found) throw new ProviderError(`no provider named ${name}; see: warden provider list`, 'not_found');
    return found;
  }

  has(name: string): boolean {
    return this.snapshot().providers.has(name);
  }

  routes(): InferenceRoutes {
    return this.snapshot().routes;
  }

  view(record: ProviderRecord): ProviderView {
    const profile = this.profile(record.type);
    return {
      name: record.name, type: record.type, description: profile.description,
      endpoint: this.endpointOf(record) ?? null, api: profile.api ?? null,
      credentials: Object.keys(record.credentials).sort(), hosts: this.hostsOf(record),
      created_at: record.createdAt, updated_at: record.updatedAt,
    };
  }

  endpointOf(record: ProviderRecord): string | undefined {
    return record.endpoint ?? this.profile(record.type).endpoint;
  }

  /** Every host where this provider's credentials may be used. */
  hostsOf(record: ProviderRecord): string[] {
    return [...new Set([...this.profile(record.type).hosts, ...record.hosts])].sort();
  }

  /** The model key of a model provider: the value of its profile's first variable that is set. */
  keyOf(record: ProviderRecord): string | undefined {
    const names = [...this.profile(record.type).credentials, ...Object.keys(record.credentials)];
    for (const name of names) if (record.credentials[name] !== undefined) return record.credentials[name];
    return undefined;
  }

  create(record: Omit<ProviderRecord, 'createdAt' | 'updatedAt'>): ProviderRecord {
    checkProviderName(record.name);
    record = { ...record, hosts: exactHosts(record.hosts) };
    if (this.has(record.name)) throw new ProviderError(`provider ${record.name} exists; change it with: warden provider update ${record.name}`, 'exists');
    const now = new Date().toISOString();
    const full = { ...record, createdAt: now, updatedAt: now };
    this.validate(full);
    this.write(path.join(this.dir, `${record.name}.json`), full);
    return full;
  }

  update(name: string, change: { endpoint?: string; credentials?: Record<string, string>; hosts?: string[] }): ProviderRecord {
    const current = this.get(name);
    const next: ProviderRecord = {
      ...current,
      ...(change.endpoint !== undefined ? { endpoint: change.endpoint } : {}),
      credentials: { ...current.credentials, ...change.credentials },
      hosts: change.hosts !== undefined ? [...new Set([...current.hosts, ...exactHosts(change.hosts)])] : current.hosts,
      updatedAt: new Date().toISOString(),
    };
    this.validate(next);
    this.write(path.join(this.dir, `${name}.json`), next);
    return next;
  }

  /**
   * The record `create` (for a new name) or `update` (for an existing one) would write, checked
   * the same way, without writing anything: what `warden onboard` verifies before it changes a
   * thing. `changed` names what would differ from the stored record (variable names, never values).
   */
  preview(name: string, type: string, change: { endpoint?: string; credentials?: Record<string, string> }): { record: ProviderRecord; exists: boolean; changed: string[] } {
    checkProviderName(name);
    for (const value of Object.values(change.credentials ?? {})) registerSecret(value);
    const current = this.snapshot().providers.get(name);
    if (current === undefined) {
      const now = new Date().toISOString();
      const record: ProviderRecord = { name, type, credentials: { ...change.credentials }, hosts: [], createdAt: now, updatedAt: now, ...(change.endpoint !== undefined ? { endpoint: change.endpoint } : {}) };
      this.validate(record);
      return { record, exists: false, changed: ['created'] };
    }
    if (current.type !== type) throw new ProviderError(`provider ${name} exists with type ${current.type}, not ${type}; choose another name`, 'exists');
    const record: ProviderRecord = {
      ...current,
      ...(change.endpoint !== undefined ? { endpoint: change.endpoint } : {}),
      credentials: { ...current.credentials, ...change.credentials },
    };
    this.validate(record);
    const changed = [
      ...(this.endpointOf(record) !== this.endpointOf(current) ? ['endpoint'] : []),
      ...Object.entries(change.credentials ?? {}).filter(([key, value]) => current.credentials[key] !== value).map(([key]) => key).sort(),
    ];
    return { record, exists: true, changed };
  }

  delete(name: string): void {
    this.get(name);
    const using = Object.entries(this.routes()).filter(([, route]) => route?.provider === name).map(([api]) => api);
    if (using.length > 0) throw new ProviderError(`provider ${name} serves the ${using.join(' and ')} inference route; set another first (warden inference set)`, 'in_use');
    rmSync(path.join(this.dir, `${name}.json`), { force: true });
    this.cache = undefined;
  }

  setRoute(api: ApiShape, route: InferenceRoute): InferenceRoutes {
    const routes = { ...this.routes(), [api]: route };
    this.write(this.routesFile, { routes });
    return routes;
  }

  private validate(record: ProviderRecord): void {
    const profile = this.profile(record.type);
    if (profile.endpointRequired && record.endpoint === undefined) throw new ProviderError(`a provider of type ${record.type} needs --endpoint URL`, 'bad_provider');
    if (profile.hostsRequired && record.hosts.length === 0) throw new ProviderError(`a provider of type ${record.type} needs --host HOST (where its credentials may be used)`, 'bad_provider');
    if (!profile.optionalCredentials && profile.credentials.length > 0 && this.keyOf(record) === undefined && Object.keys(record.credentials).length === 0) {
      throw new ProviderError(`a provider of type ${record.type} needs a credential (${profile.credentials.join(' or ')}): --credential VAR reads it from $VAR`, 'bad_provider');
    }
    if (record.type === 'generic' && Object.keys(record.credentials).length === 0) throw new ProviderError('a generic provider needs at least one --credential VAR', 'bad_provider');
    if (record.endpoint !== undefined) {
      let url: URL;
      try {
        url = new URL(record.endpoint);
      } catch {
        throw new ProviderError(`--endpoint ${record.endpoint} is not a URL`, 'bad_provider');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProviderError(`--endpoint must be an http:// or https:// URL, got ${url.protocol}`, 'bad_provider');
      if (url.username !== '' || url.password !== '') throw new ProviderError('--endpoint must not carry a user or password; give the key with --credential', 'bad_provider');
    }
  }

  /** Reads the files again only when one changed since the last read. */
  private snapshot(): NonNullable<ProviderStore['cache']> {
    const stamp = `${mtime(this.dir)}:${mtime(this.routesFile)}`;
    if (this.cache?.stamp === stamp) return this.cache;
    const providers = new Map<string, ProviderRecord>();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const file of files) {
      const record = JSON.parse(readFileSync(path.join(this.dir, file), 'utf8')) as ProviderRecord;
      for (const value of Object.values(record.credentials)) registerSecret(value);
      providers.set(record.name, record);
    }
    let routes: InferenceRoutes = {};
    try {
      routes = (JSON.parse(readFileSync(this.routesFile, 'utf8')) as { routes: InferenceRoutes }).routes;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.cache = { stamp, providers, routes };
    return this.cache;
  }

  private write(file: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(value, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    this.cache = undefined;
  }
}

/** --host values as the proxy compares them: exact names, lower case, no trailing dot. */
function exactHosts(hosts: readonly string[]): string[] {
  return hosts.map((raw) => {
    const host = normaliseHost(raw);
    if (host === null || host.includes('*')) throw new ProviderError(`--host ${raw}: expected an exact host name (no wildcards, no port)`, 'bad_provider');
    return host;
  });
}

function mtime(file: string): string {
  try {
    // Nanoseconds: two replacements within one millisecond must not look like none.
    const s = statSync(file, { bigint: true });
    return `${s.mtimeNs}:${s.ctimeNs}:${s.size}:${s.ino}`;
  } catch {
    return 'none';
  }
}
