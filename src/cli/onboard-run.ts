// `warden onboard`: one model provider, the inference.local route to it, and the policy tier and
// presets `warden launch` applies, set up by a wizard at a terminal or from flags
// (--non-interactive). The provider must answer its model listing before anything is written;
// an answer not given keeps what exists, so a rerun changes only what it is asked to and an
// identical rerun changes nothing. Keys come from the environment or a hidden prompt, never argv.
import { CliError, printJsonResult, printLine } from './output.js';
import type { OnboardOptions } from './onboard.js';
import { gatewayCall, toCliError } from './gateway-commands.js';
import { ask, PromptCancelled, TerminalPrompter, type Prompter } from './onboard-prompt.js';
import type { OpReply } from '../gateway/index.js';
import { providerProfiles, type ProviderProfile } from '../inference/index.js';
import {
  AnswerError, currentModel, defaultProviderName, defaultProviderType, DEFAULT_TIER, keyVariable, modelProviderTypes, nextProfile,
  OnboardError, parseEndpoint, parseModel, parsePresets, parseProviderName, parseProviderType, parseTier, parseVariableName, parseYesNo,
  profilePath, profilePresets, readOnboardProfile, routeInForce, sameProfile, TIERS, TIER_NAMES, writeOnboardProfile,
  type CurrentSetup, type ExistingProvider, type OnboardProfile, type Tier,
} from '../onboard/index.js';
import { policyLoader } from '../policy/index.js';
import { wardenHome } from '../store/index.js';

type Check = OpReply<'provider.check'>;

/** A usage error (exit 2): one line, and where to look. */
const usage = (message: string) => new CliError('usage', `${message}\nSee \`warden onboard --help\`.`, 2);

/** Everything decided: what the gateway is asked to check, and then to keep. */
interface Choice {
  profile: ProviderProfile;
  name: string;
  /** Only when it differs from what the provider has (or its type's default). */
  endpoint?: string;
  /** Only when a value was given; else the stored key (if any) is kept. */
  key?: { variable: string; value: string };
  model: string;
  tier?: Tier;
  presets?: string[];
}

export async function onboardCommand(opts: OnboardOptions): Promise<number> {
  if (!opts.nonInteractive && !process.stdin.isTTY) {
    throw usage('stdin is not a terminal, so the wizard cannot ask: pass --non-interactive with --provider TYPE --model MODEL');
  }
  // Before the first gateway call, which may start a gateway that inherits this environment.
  const keys = takeKeysFromEnvironment(opts.credential);
  const home = wardenHome();
  const presetNames = (await policyLoader()).listPresets().map((p) => p.name);
  const current = await currentSetup(home);
  let decided: { choice: Choice; check: Check } | undefined;
  if (opts.nonInteractive) {
    decided = await fromFlags(opts, current, presetNames, keys);
  } else {
    const prompter = new TerminalPrompter();
    try {
      decided = await wizard(prompter, opts, current, presetNames, home, keys);
    } catch (error) {
      if (error instanceof PromptCancelled) throw new CliError('cancelled', 'onboarding cancelled; nothing was changed', error.interrupted ? 130 : 1);
      throw error;
    }
    if (decided === undefined) throw new CliError('cancelled', 'nothing was changed', 1);
  }
  const result = await apply(decided.choice, decided.check, current, home);
  if (opts.json) printJsonResult(result);
  else printLine(1, report(result));
  return 0;
}

async function currentSetup(home: string): Promise<CurrentSetup> {
  const providers = (await gatewayCall('provider.list', {}))
    .map((p): ExistingProvider => ({ name: p.name, type: p.type, credentials: p.credentials, endpoint: p.endpoint }));
  const { routes } = await gatewayCall('inference.get', {});
  let profile: OnboardProfile | undefined;
  try {
    profile = readOnboardProfile(home);
  } catch (error) {
    if (!(error instanceof OnboardError)) throw error;
    printLine(2, `warden: ${error.message.replace(/; run .*$/, '')}: onboarding writes it anew`);
  }
  return { providers, routes: { ...(routes.openai ? { openai: routes.openai } : {}), ...(routes.anthropic ? { anthropic: routes.anthropic } : {}) }, profile };
}

/** A flag's value checked as the wizard checks an answer; a bad one is a usage error. */
function flag<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AnswerError) throw usage(error.message);
    throw error;
  }
}

function modelTypes(): ProviderProfile[] {
  return modelProviderTypes(providerProfiles().values());
}

/** The endpoint to send: only one that differs from what the provider (or its type) has now. */
function endpointChange(endpoint: string | undefined, profile: ProviderProfile, existing: ExistingProvider | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  return endpoint === (existing?.endpoint ?? profile.endpoint) ? undefined : endpoint;
}

/** Values of variables that may hold the key, by name. */
type EnvironmentKeys = ReadonlyMap<string, string>;

/**
 * The values of every variable that may hold the key (--credential's, and each model provider
 * type's), taken out of this process's environment: a gateway started from here outlives it and
 * must not inherit one.
 */
function takeKeysFromEnvironment(credential: string | undefined): EnvironmentKeys {
  const names = new Set([...modelTypes().flatMap((p) => p.credentials), ...(credential !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(credential) ? [credential] : [])]);
  const keys = new Map<string, string>();
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined && value !== '') keys.set(name, value);
    delete process.env[name];
  }
  return keys;
}

async function fromFlags(opts: OnboardOptions, current: CurrentSetup, presetNames: string[], keys: EnvironmentKeys): Promise<{ choice: Choice; check: Check }> {
  const types = modelTypes();
  if (opts.provider === undefined) throw usage(`--non-interactive needs --provider TYPE (${types.map((p) => p.type).join(', ')})`);
  const profile = flag(() => parseProviderType(opts.provider!, types));
  const name = flag(() => parseProviderName(opts.name ?? defaultProviderName(profile.type, current), profile.type, current.providers));
  const existing = current.providers.find((p) => p.name === name);
  const endpoint = opts.endpoint !== undefined ? flag(() => parseEndpoint(opts.endpoint!)) : undefined;
  if (existing === undefined && profile.endpointRequired && endpoint === undefined) {
    throw usage(`a provider of type ${profile.type} needs --endpoint URL (its base URL, e.g. http://127.0.0.1:8000/v1)`);
  }
  const variable = flag(() => keyVariable(profile, existing, opts.credential !== undefined ? parseVariableName(opts.credential) : undefined));
  const key = keyFromEnvironment(keys, profile, variable, existing, opts.credential !== undefined);
  const model = opts.model !== undefined ? flag(() => parseModel(opts.model!)) : currentModel(current, profile.api!, name);
  if (model === undefined) throw usage(`--non-interactive needs --model MODEL (${name} serves no route yet)`);
  const tier = opts.tier !== undefined ? flag(() => parseTier(opts.tier!)) : undefined;
  const presets = opts.preset !== undefined ? flag(() => parsePresets(opts.preset!, presetNames)) : undefined;
  const choice: Choice = {
    profile, name, model, ...(key !== undefined ? { key } : {}), ...(tier !== undefined ? { tier } : {}), ...(presets !== undefined ? { presets } : {}),
    ...withEndpoint(endpointChange(endpoint, profile, existing)),
  };
  const check = await checkProvider(choice);
  if (check.models.length > 0 && !check.models.includes(model)) {
    printLine(2, `warden: warning: ${name} does not list the model ${model} among its ${check.models.length}; calls fail if it does not serve it`);
  }
  return { choice, check };
}

const withEndpoint = (endpoint: string | undefined) => (endpoint !== undefined ? { endpoint } : {});

/**
 * The key for --non-interactive: $VAR when --credential VAR is given (it must be set); else a
 * stored key is kept; else the type's variable when it is set; else none, if the type needs none.
 */
function keyFromEnvironment(keys: EnvironmentKeys, profile: ProviderProfile, variable: string | undefined, existing: ExistingProvider | undefined, given: boolean): Choice['key'] {
  if (variable === undefined) return undefined;
  if (!given && existing !== undefined && existing.credentials.length > 0) return undefined;
  const value = keys.get(variable);
  if (value !== undefined) return { variable, value };
  if (given) throw usage(`--credential ${variable}: $${variable} is not set here; export it first`);
  if (profile.optionalCredentials) return undefined;
  throw usage(`a provider of type ${profile.type} needs a key: export ${variable}=... first (or name another variable with --credential VAR)`);
}

function checkProvider(choice: Choice): Promise<Check> {
  return gatewayCall('provider.check', {
    name: choice.name, type: choice.profile.type, ...withEndpoint(choice.endpoint),
    ...(choice.key !== undefined ? { credentials: { [choice.key.variable]: choice.key.value } } : {}),
  });
}

async function wizard(p: Prompter, opts: OnboardOptions, current: CurrentSetup, presetNames: string[], home: string, keys: EnvironmentKeys): Promise<{ choice: Choice; check: Check } | undefined> {
  p.say(describeCurrent(current, home));
  const types = modelTypes();
  p.say('Model providers:');
  types.forEach((t, i) => p.say(`  ${i + 1}. ${t.type.padEnd(18)} ${t.description}`));
  const profile = await ask(p, 'Provider type', (a) => parseProviderType(a, types), { default: opts.provider ?? defaultProviderType(current) });
  const name = await ask(p, 'Provider name', (a) => parseProviderName(a, profile.type, current.providers), { default: opts.name ?? defaultProviderName(profile.type, current) });
  const existing = current.providers.find((x) => x.name === name);
  const variable = flag(() => keyVariable(profile, existing, opts.credential !== undefined ? parseVariableName(opts.credential) : undefined));
  let endpoint = opts.endpoint !== undefined ? flag(() => parseEndpoint(opts.endpoint!)) : existing?.endpoint ?? profile.endpoint;
  let key: Choice['key'];
  let check: Check | undefined;
  for (let attempt = 0; check === undefined; attempt++) {
    // Local servers (no hosts of their own) are the ones whose address varies.
    if (profile.hosts.length === 0) endpoint = await ask(p, 'Endpoint (base URL)', parseEndpoint, endpoint !== undefined ? { default: endpoint } : {});
    key = variable === undefined ? undefined : await askKey(p, keys, profile, variable, existing, opts.credential !== undefined, key, attempt);
    const choice: Choice = { profile, name, model: '-', ...(key !== undefined ? { key } : {}), ...withEndpoint(endpointChange(endpoint, profile, existing)) };
    p.say(`Checking that ${name} answers at ${endpoint ?? existing?.endpoint ?? profile.endpoint}/models ...`);
    try {
      check = await checkProvider(choice);
    } catch (error) {
      const failure = toCliError(error);
      if (failure.code !== 'verify_failed' && failure.code !== 'bad_request') throw failure;
      p.say(`  ${failure.message.replace(/ Nothing was changed\.?$/, '')}`);
      if (!await ask(p, 'Change the answers and try again?', (a) => parseYesNo(a, true), { hint: 'Y/n' })) throw failure;
    }
  }
  const model = await askModel(p, check, opts.model ?? currentModel(current, check.api, name));
  p.say('Policy tiers (what an agent may reach besides inference.local; every other host stays denied):');
  TIER_NAMES.forEach((t, i) => p.say(`  ${i + 1}. ${t.padEnd(11)} ${TIERS[t].description}`));
  const tier = await ask(p, 'Policy tier', parseTier, { default: opts.tier ?? current.profile?.tier ?? DEFAULT_TIER });
  const others = presetNames.filter((n) => !(TIERS[tier].presets as readonly string[]).includes(n));
  p.say(`Other presets: ${others.join(', ')} (\`warden preset show NAME\` shows one; slack, telegram and discord also need their tokens as providers)`);
  const chosen = opts.preset !== undefined ? flag(() => parsePresets(opts.preset!, presetNames)) : current.profile?.presets ?? [];
  const presets = await ask(p, 'Extra presets', (a) => parsePresets(a, presetNames), { hint: 'comma-separated, or none', default: chosen.length > 0 ? chosen.join(',') : 'none' });
  const choice: Choice = { profile, name, model, tier, presets, ...(key !== undefined ? { key } : {}), ...withEndpoint(endpointChange(endpoint, profile, existing)) };
  const plan = planText(choice, check, current);
  if (plan.every((line) => line.endsWith('(already in force)'))) return { choice, check };
  p.say(['About to:', ...plan.map((line) => `  ${line}`)].join('\n'));
  return await ask(p, 'Apply?', (a) => parseYesNo(a, true), { hint: 'Y/n' }) ? { choice, check } : undefined;
}

/**
 * The key, asked for: the variable's value in this environment (offered first), or typed at a
 * hidden prompt; Enter keeps the stored key (or the one typed before a failed check).
 */
async function askKey(p: Prompter, keys: EnvironmentKeys, profile: ProviderProfile, variable: string, existing: ExistingProvider | undefined, given: boolean, previous: Choice['key'], attempt: number): Promise<Choice['key']> {
  const fromEnvironment = keys.get(variable);
  if (given) {
    const value = fromEnvironment;
    if (value === undefined) throw usage(`--credential ${variable}: $${variable} is not set here; export it first`);
    return { variable, value };
  }
  if (fromEnvironment !== undefined && await ask(p, `Use the key in $${variable}?`, (a) => parseYesNo(a, attempt === 0), { hint: attempt === 0 ? 'Y/n' : 'y/N' })) {
    return { variable, value: fromEnvironment };
  }
  const stored = existing !== undefined && existing.credentials.includes(variable);
  const keep = previous !== undefined ? 'Enter keeps the one typed before' : stored ? 'Enter keeps the stored key' : profile.optionalCredentials ? 'Enter for none' : undefined;
  const typed = await ask(p, `${variable}`, (a) => {
    if (a === '' && keep === undefined) throw new AnswerError(`a ${profile.type} provider needs a key (Ctrl-C stops here, changing nothing)`);
    return a;
  }, { hidden: true, hint: `typing is not shown${keep !== undefined ? `; ${keep}` : ''}` });
  return typed !== '' ? { variable, value: typed } : previous;
}

async function askModel(p: Prompter, check: Check, preferred: string | undefined): Promise<string> {
  const shown = check.models.slice(0, 20);
  if (check.models.length > 0) {
    p.say(`It answers, and lists ${check.models.length} model${check.models.length === 1 ? '' : 's'}:`);
    shown.forEach((m, i) => p.say(`  ${i + 1}. ${m}`));
    if (check.models.length > shown.length) p.say(`  ... and ${check.models.length - shown.length} more (type the name)`);
  } else {
    p.say('It answers (its listing names no models).');
  }
  const fallback = preferred ?? (check.models.length === 1 ? check.models[0] : undefined);
  for (;;) {
    const model = await ask(p, 'Model', (a) => parseModel(a, shown), { ...(fallback !== undefined ? { default: fallback } : {}), ...(shown.length > 0 ? { hint: 'a number or a name' } : {}) });
    if (check.models.length === 0 || check.models.includes(model)) return model;
    p.say(`  ${check.name} does not list ${model}: calls fail if it does not serve it`);
    if (await ask(p, 'Use it anyway?', (a) => parseYesNo(a, false), { hint: 'y/N' })) return model;
  }
}

function describeCurrent(current: CurrentSetup, home: string): string {
  if (current.providers.length === 0 && current.profile === undefined) return `Nothing is set up yet in ${home}.`;
  const lines = [`Set up now in ${home} (press Enter to keep an answer shown in [brackets]):`];
  for (const provider of current.providers) {
    lines.push(`  provider ${provider.name} (${provider.type})${provider.credentials.length > 0 ? `, key in ${provider.credentials.join(', ')}` : ''}${provider.endpoint !== null ? `, at ${provider.endpoint}` : ''}`);
  }
  for (const api of ['openai', 'anthropic'] as const) {
    const route = current.routes[api];
    if (route !== undefined) lines.push(`  inference.local (${api}) -> ${route.provider}, model ${route.model}`);
  }
  if (current.profile !== undefined) lines.push(`  ${policyText(current.profile)}`);
  return lines.join('\n');
}

function policyText(profile: Pick<OnboardProfile, 'tier' | 'presets'>): string {
  const tierPresets = TIERS[profile.tier].presets as readonly string[];
  return `policy tier ${profile.tier} (${tierPresets.length > 0 ? tierPresets.join(', ') : 'no presets'}), extra presets: ${profile.presets.length > 0 ? profile.presets.join(', ') : 'none'}`;
}

/** One line per thing onboarding keeps: what it will do, or "(already in force)". */
function planText(choice: Choice, check: Check, current: CurrentSetup): string[] {
  const provider = !check.exists ? `provider ${choice.name} (${choice.profile.type}): create${choice.key !== undefined ? `, key in ${choice.key.variable}` : ''}`
    : check.changed.length > 0 ? `provider ${choice.name} (${choice.profile.type}): change ${check.changed.join(', ')}`
      : `provider ${choice.name} (${choice.profile.type}) (already in force)`;
  const route = `inference.local (${check.api}) -> ${choice.name}, model ${choice.model}${routeInForce(current, check.api, choice.name, choice.model) ? ' (already in force)' : ''}`;
  const profile = nextProfile(current.profile, { provider: choice.name, type: choice.profile.type, api: check.api, model: choice.model, ...tierAndPresets(choice) });
  return [provider, route, `${policyText(profile)}${sameProfile(current.profile, profile) ? ' (already in force)' : ''}`];
}

const tierAndPresets = (choice: Choice) => ({ ...(choice.tier !== undefined ? { tier: choice.tier } : {}), ...(choice.presets !== undefined ? { presets: choice.presets } : {}) });

type Status = 'created' | 'updated' | 'set' | 'saved' | 'unchanged';

interface OnboardResult {
  changed: boolean;
  provider: { name: string; type: string; api: 'openai' | 'anthropic'; endpoint: string | null; status: Status; changed: string[]; models: number };
  route: { api: 'openai' | 'anthropic'; provider: string; model: string; status: Status };
  profile: OnboardProfile & { file: string; status: Status; presets_in_force: string[] };
}

/**
 * Writes what differs, in this order: the provider, the route, the profile. The provider answered
 * just before, so nothing after it goes over the network; a route that cannot be set takes a
 * provider created here away again.
 */
async function apply(choice: Choice, check: Check, current: CurrentSetup, home: string): Promise<OnboardResult> {
  let providerStatus: Status = 'unchanged';
  if (!check.exists) {
    await gatewayCall('provider.create', {
      name: choice.name, type: choice.profile.type, ...withEndpoint(choice.endpoint),
      credentials: choice.key !== undefined ? { [choice.key.variable]: choice.key.value } : {},
    });
    providerStatus = 'created';
  } else if (check.changed.length > 0) {
    await gatewayCall('provider.update', {
      name: choice.name, ...(check.changed.includes('endpoint') ? withEndpoint(choice.endpoint) : {}),
      ...(choice.key !== undefined && check.changed.includes(choice.key.variable) ? { credentials: { [choice.key.variable]: choice.key.value } } : {}),
    });
    providerStatus = 'updated';
  }
  let routeStatus: Status = 'unchanged';
  if (!routeInForce(current, check.api, choice.name, choice.model)) {
    try {
      await gatewayCall('inference.set', { provider: choice.name, model: choice.model, verify: false });
    } catch (error) {
      if (providerStatus === 'created') await gatewayCall('provider.delete', { name: choice.name }).catch(() => undefined);
      throw error;
    }
    routeStatus = 'set';
  }
  const profile = nextProfile(current.profile, { provider: choice.name, type: choice.profile.type, api: check.api, model: choice.model, ...tierAndPresets(choice) });
  const inForce = sameProfile(current.profile, profile);
  if (!inForce) writeOnboardProfile(home, profile);
  const kept = inForce ? current.profile! : profile;
  return {
    changed: providerStatus !== 'unchanged' || routeStatus !== 'unchanged' || !inForce,
    provider: { name: check.name, type: check.type, api: check.api, endpoint: check.endpoint, status: providerStatus, changed: check.exists ? check.changed : [], models: check.models.length },
    route: { api: check.api, provider: choice.name, model: choice.model, status: routeStatus },
    profile: { ...kept, file: profilePath(home), status: inForce ? 'unchanged' : 'saved', presets_in_force: profilePresets(kept) },
  };
}

function report(result: OnboardResult): string {
  const status = (s: Status, changed: string[] = []) => (s === 'unchanged' ? 'already in force' : s === 'updated' ? `updated (${changed.join(', ')})` : s);
  const { provider, route, profile } = result;
  const lines = [
    `provider ${provider.name} (${provider.type}): ${status(provider.status, provider.changed)}; it answers at ${provider.endpoint ?? '?'} (${provider.models} model${provider.models === 1 ? '' : 's'} listed)`,
    `inference.local (${route.api}) -> ${route.provider}, model ${route.model}: ${status(route.status)}`,
    `${policyText(profile)}: ${status(profile.status)}${profile.status === 'saved' ? ` in ${profile.file}` : ''}`,
    result.changed ? 'next: warden launch openclaw (agents get the tier\'s and the extra presets on top of their own policy)' : 'already in force: nothing was changed',
  ];
  return lines.join('\n');
}
