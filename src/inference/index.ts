// Public surface of the inference component: providers and their credentials (kept on the
// host), inference.local (model calls routed to the configured provider with its key injected
// outside the sandbox), and credential placeholders swapped in by the egress proxy.

import { HostIndex, isInspected, type Policy } from '../policy/index.js';

export { providerProfiles, type ApiShape, type ProviderProfile } from './profiles.js';
export { checkProviderName, ProviderError, ProviderStore, type InferenceRoute, type InferenceRoutes, type ProviderRecord, type ProviderView } from './store.js';
export { createInferenceService, INFERENCE_ROUTES, type InferenceService, type InferenceServiceOptions, type ModelCallRecord } from './service.js';
export { makePlaceholders, placeholderSwapper, type PlaceholderOwner, type Placeholders } from './placeholders.js';
export { UsageMeter, type Usage } from './usage.js';

/** warden's own name for model calls, answered in-process. */
export const INFERENCE_HOST = 'inference.local';

/**
 * Endpoints of `policy` that would carry a credential to one of `hosts` without being inspected:
 * a placeholder inside a raw tunnel cannot be swapped (nor seen), so such a policy is refused.
 */
export function uninspectedCredentialEndpoints(policy: Policy, hosts: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [key, rule] of Object.entries(policy.network_policies)) {
    for (const endpoint of rule.endpoints) {
      if (endpoint.host === undefined || isInspected(endpoint)) continue;
      const index = new HostIndex<true>();
      index.add(endpoint.host, true);
      const hit = hosts.find((host) => index.lookup(host).length > 0);
      if (hit !== undefined) problems.push(`network_policies.${key}: ${endpoint.host} carries credentials for ${hit} but is not inspected (add protocol: rest, so the proxy terminates TLS and swaps the placeholder)`);
    }
  }
  return problems;
}
