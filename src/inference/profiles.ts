// Provider profiles: one small YAML file per provider type, shipped in providers/ at the package
// root. A profile names the variables its credentials travel in, the hosts where they may be
// used, and for model providers the API shape, the default endpoint and how the key is sent.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { normaliseHost, wardenPackageDir } from '../policy/index.js';

export type ApiShape = 'openai' | 'anthropic';

export interface ProviderProfile {
  type: string;
  description: string;
  /** Model providers: the API shape inference.local speaks to them in. */
  api?: ApiShape;
  /** Model providers: the base URL (ending in /v1). */
  endpoint?: string;
  endpointRequired: boolean;
  /** The variables a sandbox sees placeholders in, and the first one is the model key. */
  credentials: string[];
  /** True when the provider works without any credential (a local server). */
  optionalCredentials: boolean;
  /** How the key is sent to a model provider. */
  auth?: { header: string; scheme?: string };
  /** Where a placeholder may be swapped for the real value. */
  hosts: string[];
  /**
   * Where in a request a placeholder may be swapped: `header` (the authentication headers only,
   * Basic credentials included), `path` (Telegram's /bot<token>/). Never the query or other
   * headers: a server that echoes those would hand the value back to the sandbox.
   */
  placements: Array<'header' | 'path'>;
  hostsRequired: boolean;
}

const variable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const host = z.string().transform((raw, ctx) => {
  const name = normaliseHost(raw);
  if (name === null) {
    ctx.addIssue({ code: 'custom', message: `expected a host name, got ${raw}` });
    return z.NEVER;
  }
  return name;
});

const profileSchema = z.strictObject({
  type: z.string().regex(/^[a-z][a-z0-9-]*$/),
  description: z.string().min(1),
  api: z.enum(['openai', 'anthropic']).optional(),
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  endpoint_required: z.boolean().optional(),
  credentials: z.array(variable),
  optional_credentials: z.boolean().optional(),
  auth: z.strictObject({ header: z.string().regex(/^[a-z0-9-]+$/), scheme: z.string().optional() }).optional(),
  hosts: z.array(host),
  hosts_required: z.boolean().optional(),
  placements: z.array(z.enum(['header', 'path'])).optional(),
});

let cached: Map<string, ProviderProfile> | undefined;

/** The shipped profiles by type. A profile that does not parse is an error, never skipped. */
export function providerProfiles(dir = path.join(wardenPackageDir(), 'providers')): Map<string, ProviderProfile> {
  if (cached !== undefined && dir === path.join(wardenPackageDir(), 'providers')) return cached;
  const profiles = new Map<string, ProviderProfile>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const parsed = profileSchema.safeParse(parse(readFileSync(path.join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`provider profile ${path.join(dir, file)} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const p = parsed.data;
    if (`${p.type}.yaml` !== file) throw new Error(`provider profile ${file} declares type ${p.type}: the file must be named ${p.type}.yaml`);
    if (p.api !== undefined && p.endpoint === undefined && p.endpoint_required !== true) throw new Error(`provider profile ${file}: a model provider needs an endpoint or endpoint_required`);
    profiles.set(p.type, {
      type: p.type,
      description: p.description,
      ...(p.api !== undefined ? { api: p.api } : {}),
      ...(p.endpoint !== undefined ? { endpoint: p.endpoint.replace(/\/+$/, '') } : {}),
      endpointRequired: p.endpoint_required === true,
      credentials: p.credentials,
      optionalCredentials: p.optional_credentials === true,
      ...(p.auth !== undefined ? { auth: p.auth } : {}),
      hosts: p.hosts,
      hostsRequired: p.hosts_required === true,
      placements: p.placements ?? ['header'],
    });
  }
  if (dir === path.join(wardenPackageDir(), 'providers')) cached = profiles;
  return profiles;
}
