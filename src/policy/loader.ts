// The heavy half of the policy component: reading policy files (YAML and the schema, with located
// errors), presets, and revisions. Reached through policyLoader() in index.ts, so that what only
// needs types, the default policy or the matchers (a `warden run` without a policy file) never
// loads YAML and the schema.

export { parsePolicy, loadPolicyFile, PolicyError, policyWarnings, formatWarning } from './load.js';
export { listPresets, loadPreset, mergePolicies, defaultPresetDir, PresetError, PolicyMergeError } from './presets.js';
export { applyPolicyChanges, parseEndpointChangeSpec, parseEndpointSpec, parseRuleSpec, diffPolicies, renderDiff, staticChanges, STATIC_SECTIONS, PolicyChangeError } from './revise.js';
