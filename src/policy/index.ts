// The policy component's public surface: the Policy types, loading with located errors,
// the default policy, presets, and revisions (apply changes, diff, static-section check).

export type * from './types.js';
export { parseSize } from './sizes.js';
export { parsePolicy, loadPolicyFile, PolicyError } from './load.js';
export type { PolicyDiagnostic } from './load.js';
export { defaultPolicy } from './default.js';
export { listPresets, loadPreset, mergePolicies, defaultPresetDir, PresetError, PolicyMergeError } from './presets.js';
export type { PresetInfo, PresetErrorCode, MergeOptions } from './presets.js';
export { applyPolicyChanges, parseEndpointSpec, diffPolicies, renderDiff, staticChanges, STATIC_SECTIONS, PolicyChangeError } from './revise.js';
export type { PolicyChange, PolicyDiff, PolicyDiffEntry, StaticSection } from './revise.js';
