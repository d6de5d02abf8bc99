// The policy component's public surface: the Policy types, loading with located errors,
// and the default policy.

export type * from './types.js';
export { parsePolicy, loadPolicyFile, PolicyError } from './load.js';
export type { PolicyDiagnostic } from './load.js';
export { defaultPolicy } from './default.js';
export { listPresets, loadPreset, mergePolicies, defaultPresetDir, PresetError, PolicyMergeError } from './presets.js';
export type { PresetInfo, PresetErrorCode, MergeOptions } from './presets.js';
