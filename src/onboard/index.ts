// Public surface of onboarding: the checks behind `warden onboard`'s answers, the policy tiers,
// and the onboarding profile it leaves in WARDEN_HOME for `warden launch` (provider, model, tier
// and presets; never a key). Launch reads it with readOnboardProfile / requireOnboardProfile and
// adds profilePresets(profile) to the agent's default policy.
export { DEFAULT_TIER, isTier, TIER_NAMES, TIERS, tierPresets, type Tier } from './tiers.js';
export {
  OnboardError, PROFILE_FILE, profilePath, profilePresets, readOnboardProfile, requireOnboardProfile, sameProfile, writeOnboardProfile,
  type OnboardProfile,
} from './profile.js';
export {
  AnswerError, modelProviderTypes, parseEndpoint, parseModel, parsePresets, parseProviderName, parseProviderType, parseTier, parseVariableName, parseYesNo,
} from './answers.js';
export {
  currentModel, defaultProviderName, defaultProviderType, keyVariable, nextProfile, routeInForce,
  type CurrentSetup, type ExistingProvider, type ExistingRoute,
} from './plan.js';
