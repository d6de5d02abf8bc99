import type { LandlockPolicy } from '../policy/index.js';

export type LandlockOutcome =
  | { applied: false; warning?: string }
  | { applied: true };

export class LandlockRequiredError extends Error {}

/**
 * Landlock is the second filesystem layer of DESIGN.md. This build does not apply it yet, so
 * it must never pretend to: `hard_requirement` refuses to start and `best_effort` warns once.
 * The mount namespace (only the policy's paths exist inside) remains the enforced layer.
 */
export function landlockOutcome(policy: LandlockPolicy): LandlockOutcome {
  switch (policy.compatibility) {
    case undefined:
    default:
      return { applied: false };
    case 'best_effort':
      return {
        applied: false,
        warning: 'warden: landlock: best_effort requested but this warden does not apply Landlock yet; ' +
          'the filesystem is confined by the mount namespace only',
      };
    case 'hard_requirement':
      throw new LandlockRequiredError(
        'landlock.compatibility is hard_requirement, but this warden does not apply Landlock yet: refusing to start. ' +
          'Use `compatibility: best_effort` to run with mount-namespace confinement only.',
      );
  }
}
