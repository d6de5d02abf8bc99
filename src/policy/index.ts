// The policy component's public surface: the Policy types, the default policy, units, the registry
// of keys and their enforcers, and the compiled matchers with the network decisions made with them
// (enforced by egress, run by the checkpoint). Reading files, presets and revisions (YAML and the
// schema: most of warden's start-up time) are behind policyLoader(), loaded on first use.

export type * from './types.js';
export { defaultPolicy } from './default.js';
export { durationMs, parseSize } from './sizes.js';
export { POLICY_KEYS, unenforcedKeys, type KeyStatus, type KeyFinding } from './keys.js';
export { PROTECTED_WORKDIR_FILES } from './workdir-files.js';
export { wardenPackageDir } from './package-dir.js';

/** The loader half of the component (load.ts, presets.ts, revise.ts), loaded on first use. */
export function policyLoader(): Promise<typeof import('./loader.js')> {
  return import('./loader.js');
}
export type PolicyLoader = Awaited<ReturnType<typeof policyLoader>>;
export type { PolicyDiagnostic, PolicyError } from './load.js';
export type { PresetInfo, PresetErrorCode, MergeOptions } from './presets.js';
export type { PolicyChange, PolicyDiff, PolicyDiffEntry, StaticSection } from './revise.js';

export type * from './verdict.js';
export { CompiledPolicy, PolicyCompiler, cleartextOnly, compileNetworkPolicies, isInspected } from './connection.js';
export type { CompiledEndpoint, ConnectionDecision, ConnectionVerdict } from './connection.js';
export { checkInspectedRequest, ssrfVerdict } from './request.js';
export type { InspectedRequest, RequestVerdict } from './request.js';
export { BinaryLedger } from './integrity.js';
export { checkAddress, checkResolution, classifyAddress, compileAllowedIps, formatIp, ipEquals, isIpLiteral, parseIp, unmapIPv4 } from './addresses.js';
export type { AddressCategory, AllowedIps, IpAddress, ResolutionCheck } from './addresses.js';
export { endpointHost, HOST_GATEWAY_NAMES, hostGatewayAddresses, HostIndex, normaliseEndpointHost, normaliseHost } from './hosts.js';
export { normaliseTarget } from './urlpath.js';
