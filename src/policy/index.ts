// The policy component's public surface: the Policy types, loading with located errors,
// the default policy, presets, and revisions (apply changes, diff, static-section check).

export type * from './types.js';
export { durationMs, parseSize } from './sizes.js';
export { parsePolicy, loadPolicyFile, PolicyError, policyWarnings, formatWarning } from './load.js';
export { POLICY_KEYS, unenforcedKeys, type KeyStatus, type KeyFinding } from './keys.js';
export type { PolicyDiagnostic } from './load.js';
export { defaultPolicy } from './default.js';
export { listPresets, loadPreset, mergePolicies, defaultPresetDir, PresetError, PolicyMergeError } from './presets.js';
export type { PresetInfo, PresetErrorCode, MergeOptions } from './presets.js';
export { applyPolicyChanges, parseEndpointSpec, diffPolicies, renderDiff, staticChanges, STATIC_SECTIONS, PolicyChangeError } from './revise.js';
export type { PolicyChange, PolicyDiff, PolicyDiffEntry, StaticSection } from './revise.js';

// Compiled matchers and the network decisions made with them (enforced by egress, run by the checkpoint).
export type * from './verdict.js';
export { CompiledPolicy, PolicyCompiler, compileNetworkPolicies, isInspected } from './connection.js';
export type { CompiledEndpoint, ConnectionDecision, ConnectionVerdict } from './connection.js';
export { checkInspectedRequest, ssrfVerdict } from './request.js';
export type { InspectedRequest, RequestVerdict } from './request.js';
export { BinaryLedger } from './integrity.js';
export { checkAddress, checkResolution, classifyAddress, compileAllowedIps, formatIp, ipEquals, isIpLiteral, parseIp, unmapIPv4 } from './addresses.js';
export type { AddressCategory, AllowedIps, IpAddress, ResolutionCheck } from './addresses.js';
export { HostIndex, normaliseEndpointHost, normaliseHost } from './hosts.js';
export { normaliseTarget } from './urlpath.js';
