// What a run of onboarding keeps and what it changes, decided from what exists and what was
// asked: an answer not given keeps the current value, so a rerun changes only what it is asked to,
// and an identical rerun changes nothing.

import type { ProviderProfile } from '../inference/index.js';
import { AnswerError } from './answers.js';
import type { OnboardProfile } from './profile.js';
import { DEFAULT_TIER, type Tier } from './tiers.js';

export interface ExistingProvider {
  name: string;
  type: string;
  credentials: string[];
  endpoint: string | null;
}

export interface ExistingRoute {
  provider: string;
  model: string;
}

export interface CurrentSetup {
  providers: ExistingProvider[];
  routes: Partial<Record<'openai' | 'anthropic', ExistingRoute>>;
  profile: OnboardProfile | undefined;
}

/** The provider a type's setup would use: the one onboarded before if it has this type, else one named after the type. */
export function defaultProviderName(type: string, current: CurrentSetup): string {
  if (current.profile?.type === type) return current.profile.provider;
  return type;
}

/** The provider type to offer first: the one onboarded before, else NVIDIA's API catalog. */
export function defaultProviderType(current: CurrentSetup): string {
  return current.profile?.type ?? current.providers.find((p) => p.name === current.routes.openai?.provider)?.type ?? 'nvidia';
}

/**
 * The variable a provider's key is kept in: the one given, else the one it already has, else the
 * type's own (e.g. NVIDIA_API_KEY); undefined for a type that takes no key (ollama).
 */
export function keyVariable(profile: ProviderProfile, existing: ExistingProvider | undefined, given: string | undefined): string | undefined {
  if (profile.credentials.length === 0 && !profile.optionalCredentials) {
    if (given !== undefined) throw new AnswerError(`a provider of type ${profile.type} takes no key; leave out --credential`);
    return undefined;
  }
  const stored = existing?.credentials[0];
  if (given !== undefined && stored !== undefined && !existing!.credentials.includes(given)) {
    throw new AnswerError(`provider ${existing!.name} keeps its key in ${stored}: give --credential ${stored} (with $${stored} set) to replace it, or choose another provider name`);
  }
  return given ?? stored ?? profile.credentials[0];
}

/** The model a route keeps when none is asked for: the current one, if this provider serves it. */
export function currentModel(current: CurrentSetup, api: 'openai' | 'anthropic', provider: string): string | undefined {
  const route = current.routes[api];
  return route?.provider === provider ? route.model : undefined;
}

export function routeInForce(current: CurrentSetup, api: 'openai' | 'anthropic', provider: string, model: string): boolean {
  const route = current.routes[api];
  return route?.provider === provider && route.model === model;
}

/** The profile to keep: what was asked, and for what was not, what the current profile says. */
export function nextProfile(
  current: OnboardProfile | undefined,
  chosen: { provider: string; type: string; api: 'openai' | 'anthropic'; model: string; tier?: Tier; presets?: readonly string[] },
  now: Date = new Date(),
): OnboardProfile {
  return {
    version: 1,
    provider: chosen.provider,
    type: chosen.type,
    api: chosen.api,
    model: chosen.model,
    tier: chosen.tier ?? current?.tier ?? DEFAULT_TIER,
    presets: [...new Set(chosen.presets ?? current?.presets ?? [])].sort(),
    updated_at: now.toISOString(),
  };
}
