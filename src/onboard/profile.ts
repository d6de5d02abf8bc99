// The onboarding profile: what `warden onboard` chose that is not kept elsewhere, for `warden
// launch` to apply. The provider and its key live in the provider store, the route in
// inference.json; this file holds their names (no value, ever) and the policy tier and presets.
// $WARDEN_HOME/onboard.json, mode 0600, replaced atomically (write, then rename).

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isTier, tierPresets, type Tier } from './tiers.js';

export const PROFILE_FILE = 'onboard.json';

export interface OnboardProfile {
  version: 1;
  /** The provider serving the route (its name in `warden provider list`). */
  provider: string;
  /** Its type (`warden provider types`). */
  type: string;
  /** The API shape of its route on inference.local. */
  api: 'openai' | 'anthropic';
  model: string;
  tier: Tier;
  /** Presets chosen by name, besides the tier's. */
  presets: string[];
  updated_at: string;
}

export class OnboardError extends Error {
  constructor(message: string, readonly code: 'not_onboarded' | 'bad_profile') {
    super(message);
  }
}

const schema = z.strictObject({
  version: z.literal(1),
  provider: z.string().min(1),
  type: z.string().min(1),
  api: z.enum(['openai', 'anthropic']),
  model: z.string().min(1),
  tier: z.string().refine(isTier, { error: 'unknown tier' }),
  presets: z.array(z.string().min(1)),
  updated_at: z.string(),
});

export function profilePath(home: string): string {
  return path.join(home, PROFILE_FILE);
}

/** The profile in `home`, or undefined when onboarding never ran there. A damaged file is an error. */
export function readOnboardProfile(home: string): OnboardProfile | undefined {
  let text: string;
  try {
    text = readFileSync(profilePath(home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OnboardError(`${profilePath(home)} is damaged (${issue ? `${issue.path.join('.') || 'file'}: ${issue.message}` : 'not JSON'}); run \`warden onboard\` again`, 'bad_profile');
  }
  return parsed.data as OnboardProfile;
}

/** Like readOnboardProfile, for callers that need one: says how to make it when there is none. */
export function requireOnboardProfile(home: string): OnboardProfile {
  const profile = readOnboardProfile(home);
  if (profile === undefined) throw new OnboardError('warden is not onboarded yet: run `warden onboard` (or `warden onboard --non-interactive --provider TYPE --model MODEL`)', 'not_onboarded');
  return profile;
}

/** Every preset the profile asks for: the tier's, then the ones chosen by name. */
export function profilePresets(profile: Pick<OnboardProfile, 'tier' | 'presets'>): string[] {
  return tierPresets(profile.tier, profile.presets);
}

export function writeOnboardProfile(home: string, profile: OnboardProfile): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = profilePath(home);
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(profile, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** Whether two profiles ask for the same thing (the time they were written aside). */
export function sameProfile(a: OnboardProfile | undefined, b: OnboardProfile): boolean {
  if (a === undefined) return false;
  return a.provider === b.provider && a.type === b.type && a.api === b.api && a.model === b.model && a.tier === b.tier &&
    a.presets.length === b.presets.length && a.presets.every((preset, i) => preset === b.presets[i]);
}
