// Policy tiers: named bundles of shipped network presets, chosen once at onboarding and applied
// by `warden launch` on top of the agent's own default policy. A tier only ever adds presets (every
// one deny-by-default beyond its own hosts); messaging presets (slack, telegram, discord) are in no
// tier: they are chosen by name, because their tokens reach third parties.

export const TIERS = {
  restricted: {
    description: 'inference.local only: no network beyond what the agent itself needs to run',
    presets: [],
  },
  balanced: {
    description: 'adds read-only package registries and GitHub reads (npm, pypi, github)',
    presets: ['npm', 'pypi', 'github'],
  },
  permissive: {
    description: 'adds every read-only registry (crates, go, rubygems, docker-hub, huggingface) and GitHub writes (git push, pull requests)',
    presets: ['npm', 'pypi', 'github', 'crates', 'go', 'rubygems', 'docker-hub', 'huggingface', 'github-write'],
  },
} as const satisfies Record<string, { description: string; presets: readonly string[] }>;

export type Tier = keyof typeof TIERS;
export const TIER_NAMES = Object.keys(TIERS) as Tier[];
export const DEFAULT_TIER: Tier = 'balanced';

export function isTier(name: string): name is Tier {
  return Object.hasOwn(TIERS, name);
}

/** The presets a tier brings, followed by the extra ones chosen by name, without repeats. */
export function tierPresets(tier: Tier, extra: readonly string[] = []): string[] {
  return [...new Set([...TIERS[tier].presets, ...extra])];
}
