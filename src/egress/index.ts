// Public surface of the egress component: the proxy every byte leaving a sandbox goes through.
// It enforces what the checkpoint decides; the matchers it relies on are the policy component's.

export { createEgressProxy } from './proxy.js';
export { prepareSandboxNetwork, PROXY_PORT, type SandboxNetworkOptions, type SandboxNetworkSetup } from './sandbox-network.js';
export { proxyIgnoredNotice } from './lookup-trap.js';
export { createSandboxCA, loadSandboxCA, type SandboxCAOptions } from './ca.js';
export { identifyTcpPeer, IdentityError, type IdentifyTcpPeerOptions } from './identity.js';
export { descendantIdentifier, IdentityService, identityService, MAX_PENDING_PER_SANDBOX, type CandidateSource } from './identity-service.js';
export type {
  EgressHooks,
  EgressLimits,
  EgressProxy,
  EgressProxyOptions,
  LocalService,
  OutgoingRequest,
  HoldContext,
  RequestContext,
  ResponseFilter,
  SandboxCA,
} from './types.js';
export { inspectContent, MAX_INSPECTED_BYTES } from './content.js';
export { refusalStatus } from './report.js';
export { sendJson } from './answers.js';
