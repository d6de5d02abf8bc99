// Public surface of the egress component: the proxy every byte leaving a sandbox goes through.

export { createEgressProxy } from './proxy.js';
export { prepareSandboxNetwork, PROXY_PORT, type SandboxNetworkOptions, type SandboxNetworkSetup } from './sandbox-network.js';
export { createSandboxCA, loadSandboxCA, type SandboxCAOptions } from './ca.js';
export { identifyTcpPeer, IdentityError, type IdentifyTcpPeerOptions } from './identity.js';
export { descendantIdentifier, IdentityService, identityService, MAX_PENDING_PER_SANDBOX, type CandidateSource } from './identity-service.js';
export { compileNetworkPolicies, CompiledPolicy, type ConnectionDecision } from './decision.js';
export { checkInspectedRequest, type InspectedRequest, type RequestVerdict } from './verdicts.js';
export { BinaryLedger } from './integrity.js';
export { classifyAddress, checkAddress, compileAllowedIps, type AddressCategory } from './ssrf.js';
export { normaliseHost } from './hosts.js';
export { normaliseTarget } from './urlpath.js';
export type {
  AncestorIdentity,
  ConnectionVerdict,
  DecisionCode,
  EgressEvent,
  EgressLimits,
  EgressProxy,
  EgressProxyOptions,
  MatchedEndpoint,
  ProcessIdentity,
  SandboxCA,
  Verdict,
} from './types.js';
export { explainRequest, ExplainError, type ExplainRequest, type Explanation, type ExplainStage, type ExplainedEndpoint } from './explain.js';
