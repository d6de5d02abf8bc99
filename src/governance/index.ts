// Public surface of the governance component. So far: the directive (prompt-injection) scanner,
// which scores text entering an agent from outside for instructions aimed at the agent
// (DESIGN.md "Governance model: Directive scanner"; docs/scanner.md).
import { shippedModel, type DirectiveModel } from './scanner/model.js';
import { scanText as scanWith } from './scanner/scan.js';
import type { ScanOptions, ScanResult } from './scanner/types.js';
import { governanceStages as createGovernanceStages, type GovernanceOptions } from './stages.js';
import type { Stage } from '../checkpoint/index.js';

export {
  SCAN_CATEGORIES,
  type ScanCategory,
  type ScanOptions,
  type ScanResult,
  type ScanSpan,
  type ScanThresholds,
  type ScanVerdict,
} from './scanner/types.js';
export { DEFAULT_THRESHOLDS, resolveThresholds, verdictFor } from './scanner/scan.js';

/** Scans `text` with the shipped model. Linear in the length of `text`; never throws on content. */
export function scanText(text: string, options: ScanOptions = {}): ScanResult {
  return scanWith(text, options, shippedModel());
}

// Training (npm run train:scanner) and evaluation use these; an agent path needs only scanText.
export type { DirectiveModel };
export { trainDirectiveModel, renderWeightsModule, seededRandom, DEFAULT_TRAINING, type TrainingExample, type TrainingOptions } from './scanner/train.js';

/** Scans with a given model (a freshly trained one, in training and evaluation). */
export function scanTextWithModel(model: DirectiveModel, text: string, options: ScanOptions = {}): ScanResult {
  return scanWith(text, options, model);
}

// The checkpoint stages that enforce a policy's `governance:` section.
export type { BreakerTrip, GovernanceOptions } from './stages.js';

/** The governance stages of one sandbox's checkpoint, scanning with the shipped model unless told otherwise. */
export function governanceStages(options: Partial<GovernanceOptions> = {}): Stage[] {
  return createGovernanceStages({ scan: scanText, ...options });
}
