// Credential placeholders. A sandbox created with --provider NAME sees that provider's variables
// set to placeholders; the real values stay in the gateway. The proxy swaps a placeholder for its
// value only in a request the checkpoint allowed, to one of that provider's hosts, over TLS both
// ways; a placeholder on its way anywhere else refuses the request (credential_endpoint_mismatch).

import { randomBytes } from 'node:crypto';
import type { Verdict } from '../checkpoint/index.js';
import type { OutgoingRequest, RequestContext } from '../egress/index.js';
import { normaliseHost } from '../policy/index.js';
import type { ProviderStore } from './store.js';

/** `wph_` and 32 hex digits: URL-safe, header-safe, and unlike any real token shape. */
const PLACEHOLDER = /wph_[0-9a-f]{32}/g;

export interface PlaceholderOwner {
  provider: string;
  variable: string;
}

/** Placeholder -> the provider and variable it stands for, for one sandbox. */
export type Placeholders = Record<string, PlaceholderOwner>;

/** New placeholders for every variable of the named providers; `env` is what the sandbox sees. */
export function makePlaceholders(store: ProviderStore, providers: readonly string[]): { env: Record<string, string>; placeholders: Placeholders } {
  const env: Record<string, string> = {};
  const placeholders: Placeholders = {};
  for (const name of providers) {
    const record = store.get(name);
    for (const variable of Object.keys(record.credentials)) {
      if (env[variable] !== undefined) throw new Error(`providers ${placeholders[env[variable]]!.provider} and ${name} both set ${variable}; a sandbox can take only one of them`);
      const placeholder = `wph_${randomBytes(16).toString('hex')}`;
      env[variable] = placeholder;
      placeholders[placeholder] = { provider: name, variable };
    }
  }
  return { env, placeholders };
}

/** The headers a credential may travel in; a placeholder in any other header is refused. */
const AUTH_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'private-token', 'x-auth-token']);

type Placement = 'header' | 'path';

/** The prepareUpstream hook of a sandbox with placeholders. */
export function placeholderSwapper(store: ProviderStore, placeholders: () => Placeholders): (ctx: RequestContext, outgoing: OutgoingRequest) => Verdict | undefined {
  return (ctx, outgoing) => {
    const known = placeholders();
    // Where each placeholder was found: a placement it may be swapped in, or 'elsewhere'.
    const found = new Map<string, Set<Placement | 'elsewhere'>>();
    const collect = (text: string, where: Placement | 'elsewhere') => {
      for (const match of text.matchAll(PLACEHOLDER)) {
        if (!Object.hasOwn(known, match[0])) continue;
        const places = found.get(match[0]) ?? new Set();
        places.add(where);
        found.set(match[0], places);
      }
    };
    for (let i = 1; i < outgoing.headers.length; i += 2) {
      const authHeader = AUTH_HEADERS.has(outgoing.headers[i - 1]!.toLowerCase());
      collect(outgoing.headers[i]!, authHeader ? 'header' : 'elsewhere');
      const basic = basicCredentials(outgoing.headers[i - 1]!, outgoing.headers[i]!);
      if (basic !== undefined) collect(basic, 'header');
    }
    const [pathPart, ...query] = outgoing.path.split('?');
    collect(pathPart!, 'path');
    collect(percentDecoded(pathPart!).replace(pathPart!, ''), 'elsewhere');
    collect(query.join('?'), 'elsewhere');
    collect(percentDecoded(query.join('?')), 'elsewhere');
    if (found.size === 0) return undefined;
    const host = normaliseHost(ctx.action.host) ?? ctx.action.host;
    const values = new Map<string, string>();
    for (const [placeholder, places] of found) {
      const owner = known[placeholder]!;
      const refusal = mismatch(store, owner, host, ctx.tls);
      if (refusal !== undefined) return refusal;
      const allowed = store.profile(store.get(owner.provider).type).placements;
      const wrong = [...places].find((place) => place === 'elsewhere' || !allowed.includes(place));
      if (wrong !== undefined) {
        return mismatchVerdict(owner, host, `it is swapped only in ${allowed.map(describePlacement).join(' and ')}, never in ${wrong === 'elsewhere' ? 'the query, the body or other headers' : describePlacement(wrong)}` +
          ' (a server that echoes them would hand the value back)');
      }
      const value = store.get(owner.provider).credentials[owner.variable];
      if (value === undefined) return mismatchVerdict(owner, host, `provider ${owner.provider} no longer has a value for ${owner.variable}`);
      values.set(placeholder, value);
    }
    const swap = (text: string) => text.replace(PLACEHOLDER, (p) => values.get(p) ?? p);
    for (let i = 1; i < outgoing.headers.length; i += 2) {
      const name = outgoing.headers[i - 1]!;
      if (!AUTH_HEADERS.has(name.toLowerCase())) continue;
      const basic = basicCredentials(name, outgoing.headers[i]!);
      outgoing.headers[i] = basic?.includes('wph_') === true ? `Basic ${Buffer.from(swap(basic)).toString('base64')}` : swap(outgoing.headers[i]!);
    }
    outgoing.path = swap(pathPart!) + (query.length > 0 ? `?${query.join('?')}` : '');
    return undefined;
  };
}

function describePlacement(place: Placement): string {
  return place === 'header' ? `the authentication headers (${[...AUTH_HEADERS].join(', ')})` : 'the path';
}

function mismatch(store: ProviderStore, owner: PlaceholderOwner, host: string, tls: boolean): Verdict | undefined {
  if (!store.has(owner.provider)) return mismatchVerdict(owner, host, `provider ${owner.provider} was deleted`);
  const hosts = store.hostsOf(store.get(owner.provider));
  if (!hosts.includes(host)) return mismatchVerdict(owner, host, `it is used only on ${hosts.join(', ') || 'no host'}`);
  if (!tls) return mismatchVerdict(owner, host, 'it is sent only over TLS, and this request is in clear text');
  return undefined;
}

function mismatchVerdict(owner: PlaceholderOwner, host: string, why: string): Verdict {
  return {
    verdict: 'deny', code: 'credential_endpoint_mismatch', stage: 'policy',
    reason: `the placeholder in $${owner.variable} (provider ${owner.provider}) was sent to ${host}: ${why}`,
    rule_missing: '', hint: `add the host to the provider if it should get the credential: warden provider update ${owner.provider} --host ${host}`,
  };
}

function basicCredentials(name: string, value: string): string | undefined {
  if (name.toLowerCase() !== 'authorization' && name.toLowerCase() !== 'proxy-authorization') return undefined;
  const match = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
}

function percentDecoded(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
