// Policy revisions as pure functions: apply operator changes (`warden policy update`) to a
// policy, diff two revisions, and tell which sections a running sandbox cannot take.
//
// Security invariants:
// - a revision never mutates its input, and the result is validated whole by the same
//   loader and schema as a file, so a change cannot produce a policy a file could not express
//   (bare `*` hosts, link-local allowed_ips, relative binary paths... are all refused);
// - every change either applies completely or the whole call fails: nothing partial is returned;
// - asking to add something already there, or remove something absent, is an error, never a
//   silent no-op, so an operator's typo does not pass for success.

import { endpointHost } from './hosts.js';
import { formatPath, parsePolicy, PolicyError } from './load.js';
import type { PolicyDiagnostic } from './load.js';
import type { EndpointAccess, EndpointEnforcement, NetworkEndpoint, NetworkPolicy, Policy } from './types.js';

/** Protocols `policy update --add-endpoint` can give an endpoint (those with method/path rules). */
export type ChangeProtocol = 'rest' | 'websocket';

export type PolicyChange =
  | {
    op: 'add-endpoint';
    host: string;
    port: number;
    /** Required unless `policyName` names an existing network policy. */
    binaries?: string[];
    allowedIps?: string[];
    protocol?: ChangeProtocol;
    access?: EndpointAccess;
    enforcement?: EndpointEnforcement;
    /** Add to (or create) this network policy instead of a new one named after the endpoint. */
    policyName?: string;
  }
  | { op: 'remove-endpoint'; host: string; port: number; policyName?: string }
  | { op: 'add-binary'; path: string; policyName: string }
  | { op: 'remove-binary'; path: string; policyName?: string }
  | { op: 'add-rule'; host: string; port: number; method: string; path: string; policyName?: string }
  | { op: 'remove-rule'; host: string; port: number; method: string; path: string; policyName?: string }
  | { op: 'add-deny'; host: string; port: number; method: string; path: string; policyName?: string };

export class PolicyChangeError extends Error {
  override readonly name = 'PolicyChangeError';
  constructor(
    message: string,
    /** The change that failed, when one did (absent for a bad endpoint spec). */
    readonly change?: PolicyChange,
    /** Schema problems of the changed policy, when it was the validation that failed. */
    readonly diagnostics: PolicyDiagnostic[] = [],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Endpoint specs

/** Parses `host:port`, `[v6-address]:port`; the host is checked later by the schema. */
export function parseEndpointSpec(spec: string): { host: string; port: number } {
  const bad = (why: string) =>
    new PolicyChangeError(`${JSON.stringify(spec)} is not an endpoint: ${why}; expected host:port, such as pypi.org:443 or [::1]:11434`);
  const match = /^(\[[^\]]*\]|[^:[\]]+):(\d{1,5})$/.exec(spec.trim());
  if (!match) {
    if ((spec.match(/:/g) ?? []).length > 1 && !spec.includes('[')) throw bad('an IPv6 address must be written in brackets');
    throw bad(spec.includes(':') ? 'the port must be a number' : 'the port is missing');
  }
  const rawHost = match[1]!;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw bad('the port must be 1..65535');
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (host === '') throw bad('the host is empty');
  return { host, port };
}

/** What follows host:port in OpenShell's `--add-endpoint host:port[:access[:protocol[:enforcement]]]`. */
export interface EndpointChangeSpec {
  host: string;
  port: number;
  access?: EndpointAccess;
  protocol?: ChangeProtocol;
  enforcement?: EndpointEnforcement;
}

/** Splits `[v6]:rest` or `host:rest` into the host part and what follows its first `:`. */
function splitHost(spec: string): { host: string; rest: string } | null {
  const text = spec.trim();
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return null;
    return { host: text.slice(0, close + 1), rest: text.slice(close + 2) };
  }
  const colon = text.indexOf(':');
  return colon < 0 ? null : { host: text.slice(0, colon), rest: text.slice(colon + 1) };
}

const ACCESS_VALUES: readonly string[] = ['read-only', 'read-write', 'full'];
const PROTOCOL_VALUES: readonly string[] = ['rest', 'websocket'];
const ENFORCEMENT_VALUES: readonly string[] = ['enforce', 'audit'];

/**
 * OpenShell's endpoint spec: `host:port[:access[:protocol[:enforcement]]]`, where a field may be
 * left empty (`api.example.com:443::rest`). An IPv6 host is written in brackets.
 */
export function parseEndpointChangeSpec(spec: string): EndpointChangeSpec {
  const bad = (why: string) =>
    new PolicyChangeError(`${JSON.stringify(spec)} is not an endpoint: ${why}; expected host:port[:access[:protocol[:enforcement]]], such as api.github.com:443:read-only:rest`);
  const split = splitHost(spec);
  if (!split) throw bad('the port is missing');
  const [port = '', access = '', protocol = '', enforcement = '', ...extra] = split.rest.split(':');
  if (extra.length > 0) throw bad('too many fields');
  const out: EndpointChangeSpec = parseEndpointSpec(`${split.host}:${port}`);
  const pick = <T extends string>(value: string, allowed: readonly string[], what: string): T | undefined => {
    if (value === '') return undefined;
    if (!allowed.includes(value)) throw bad(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
    return value as T;
  };
  const a = pick<EndpointAccess>(access, ACCESS_VALUES, 'the access');
  const p = pick<ChangeProtocol>(protocol, PROTOCOL_VALUES, 'the protocol');
  const e = pick<EndpointEnforcement>(enforcement, ENFORCEMENT_VALUES, 'the enforcement');
  if (a !== undefined) out.access = a;
  if (p !== undefined) out.protocol = p;
  if (e !== undefined) out.enforcement = e;
  return out;
}

/** OpenShell's rule spec for `--add-allow` / `--add-deny`: `host:port:METHOD:path-glob`. */
export function parseRuleSpec(spec: string): { host: string; port: number; method: string; path: string } {
  const bad = (why: string) =>
    new PolicyChangeError(`${JSON.stringify(spec)} is not a rule: ${why}; expected host:port:METHOD:path-glob, such as api.github.com:443:GET:/repos/**`);
  const split = splitHost(spec);
  if (!split) throw bad('the port is missing');
  const match = /^(\d{1,5}):([A-Za-z_]+|\*):(\/.*)$/.exec(split.rest);
  if (!match) throw bad('give the port, a method (or *) and a path starting with /');
  return { ...parseEndpointSpec(`${split.host}:${match[1]!}`), method: match[2]!.toUpperCase(), path: match[3]! };
}

// ---------------------------------------------------------------------------------------------
// Applying changes

/**
 * A new policy with `changes` applied in order, each validated as a whole policy. `policy`
 * is never modified. Throws PolicyChangeError naming the change and what to do instead.
 */
export function applyPolicyChanges(policy: Policy, changes: readonly PolicyChange[], options: { inForce?: string[] } = {}): Policy {
  let current = validated(withoutPreset(structuredClone(policy)), undefined, 'the policy to change is itself invalid');
  changes.forEach((change, i) => {
    const draft = structuredClone(current);
    // An addition that is already in force: refused, or (with options.inForce) noted and skipped,
    // so that repeating a change succeeds and says so.
    const inForce = (message: string): void => {
      if (options.inForce === undefined) throw new PolicyChangeError(message);
      options.inForce.push(`${label(change, i)}: ${message}`);
    };
    try {
      applyOne(draft, change, inForce);
    } catch (error) {
      if (error instanceof PolicyChangeError) throw new PolicyChangeError(`${label(change, i)}: ${error.message}`, change);
      throw error;
    }
    current = validated(draft, change, `${label(change, i)} would make the policy invalid`);
  });
  if (policy.preset !== undefined) current.preset = structuredClone(policy.preset);
  return current;
}

function label(change: PolicyChange, index: number): string {
  const what = 'host' in change ? endpointText(change.host, change.port) : change.path;
  return `change ${index + 1} (${change.op} ${what})`;
}

function withoutPreset(policy: Policy): Policy {
  delete policy.preset;
  return policy;
}

/** The policy as the loader reads it from a file: same schema, same defaults, same normal form. */
function validated(policy: Policy, change: PolicyChange | undefined, problem: string): Policy {
  try {
    return parsePolicy(JSON.stringify(policy, null, 2), 'policy revision');
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const problems = error.diagnostics.map((d) => (d.path === '' ? d.message : `${d.path}: ${d.message}`));
    throw new PolicyChangeError(`${problem}: ${problems.join('; ')}`, change, error.diagnostics);
  }
}

function applyOne(policy: Policy, change: PolicyChange, inForce: (message: string) => void): void {
  switch (change.op) {
    case 'add-endpoint':
      return addEndpoint(policy, change, inForce);
    case 'remove-endpoint':
      return removeEndpoint(policy, change);
    case 'add-binary':
      return addBinary(policy, change.path, change.policyName, inForce);
    case 'remove-binary':
      return removeBinary(policy, change.path, change.policyName);
    case 'add-rule':
      return addRule(policy, change, inForce);
    case 'remove-rule':
      return removeRule(policy, change);
    case 'add-deny':
      return addDeny(policy, change);
    default:
      throw new PolicyChangeError(`unknown operation ${JSON.stringify((change as { op: unknown }).op)}`);
  }
}

type AddEndpoint = Extract<PolicyChange, { op: 'add-endpoint' }>;

function addEndpoint(policy: Policy, change: AddEndpoint, inForce: (message: string) => void): void {
  const binaries = [...new Set(change.binaries ?? [])];
  const wanted = newEndpoint(change);
  const existing = change.policyName === undefined ? undefined : networkPolicy(policy, change.policyName, 'optional');

  const alreadyBy = allowingPolicies(policy, wanted, change.port, binaries, change.policyName);
  if (alreadyBy.length > 0 && (binaries.length > 0 || existing !== undefined)) {
    return inForce(`already allowed by network_policies.${alreadyBy[0]}${binaries.length > 0 ? ` for ${binaries.join(', ')}` : ''}: nothing to add`);
  }
  if (existing !== undefined) {
    if (!existing.endpoints.some((e) => sameEndpoint(e, wanted, change.port))) existing.endpoints.push(wanted);
    for (const path of binaries) if (!existing.binaries.some((b) => b.path === path)) existing.binaries.push({ path });
    return;
  }
  if (binaries.length === 0) {
    throw new PolicyChangeError(
      'name at least one binary that may use this endpoint (--binary /usr/bin/python3, or a glob such as "/usr/lib/git-core/*"): ' +
        'an endpoint is allowed only for the binaries listed with it',
    );
  }
  const name = change.policyName ?? uniquePolicyName(policy, change.host, change.port);
  checkPolicyName(name);
  policy.network_policies[name] = { endpoints: [wanted], binaries: binaries.map((path) => ({ path })) };
}

function newEndpoint(change: AddEndpoint): NetworkEndpoint {
  const endpoint: NetworkEndpoint = { host: change.host, ports: [change.port] };
  if (change.protocol !== undefined) endpoint.protocol = change.protocol;
  if (change.access !== undefined) endpoint.access = change.access;
  if (change.enforcement !== undefined) endpoint.enforcement = change.enforcement;
  if (change.allowedIps !== undefined && change.allowedIps.length > 0) endpoint.allowed_ips = [...new Set(change.allowedIps)];
  return endpoint;
}

/**
 * Network policies that already give `binaries` (all of them) exactly this endpoint: same
 * host, the port among its ports, same protocol and access, and every requested allowed_ips
 * entry already listed. With no binaries, only `inPolicy` is looked at.
 */
function allowingPolicies(policy: Policy, wanted: NetworkEndpoint, port: number, binaries: string[], inPolicy?: string): string[] {
  return Object.entries(policy.network_policies)
    .filter(([name]) => inPolicy === undefined || name === inPolicy)
    .filter(([, rule]) => rule.endpoints.some((e) => sameEndpoint(e, wanted, port)))
    .filter(([, rule]) => binaries.every((path) => rule.binaries.some((b) => b.path === path)))
    .map(([name]) => name);
}

function sameEndpoint(have: NetworkEndpoint, wanted: NetworkEndpoint, port: number): boolean {
  return (
    sameHost(have.host, wanted.host) &&
    have.ports.includes(port) &&
    have.protocol === wanted.protocol &&
    have.access === wanted.access &&
    have.enforcement === wanted.enforcement &&
    (wanted.allowed_ips ?? []).every((ip) => (have.allowed_ips ?? []).includes(ip.toLowerCase()))
  );
}

function uniquePolicyName(policy: Policy, host: string, port: number): string {
  const base = `${host}_${port}`.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || `endpoint_${port}`;
  let name = base;
  for (let n = 2; Object.hasOwn(policy.network_policies, name); n++) name = `${base}_${n}`;
  return name;
}

function checkPolicyName(name: string): void {
  // "__proto__" as a key would set the prototype of network_policies instead of adding a rule.
  if (name === '' || name === '__proto__') throw new PolicyChangeError(`${JSON.stringify(name)} cannot be a network policy name`);
}

function removeEndpoint(policy: Policy, change: { host: string; port: number; policyName?: string }): void {
  const found = endpointsAt(policy, change.host, change.port, change.policyName);
  if (found.length === 0) throw new PolicyChangeError(`no such endpoint; ${existingEndpoints(policy, change.policyName)}`);
  // Removing what is allowed is the restrictive direction: every matching endpoint goes.
  for (const { name, endpoint } of found) {
    const rule = policy.network_policies[name]!;
    endpoint.ports = endpoint.ports.filter((p) => p !== change.port);
    if (endpoint.ports.length === 0) rule.endpoints = rule.endpoints.filter((e) => e !== endpoint);
    // A network policy without endpoints allows nothing: drop it rather than keep an empty shell.
    if (rule.endpoints.length === 0) delete policy.network_policies[name];
  }
}

function addBinary(policy: Policy, path: string, policyName: string, inForce: (message: string) => void): void {
  const rule = networkPolicy(policy, policyName, 'required');
  if (rule.binaries.some((b) => b.path === path)) {
    return inForce(`already allowed: network_policies.${policyName} already lists ${path}`);
  }
  rule.binaries.push({ path });
}

function removeBinary(policy: Policy, path: string, policyName?: string): void {
  const names = policyName === undefined ? Object.keys(policy.network_policies) : [policyName];
  if (policyName !== undefined) networkPolicy(policy, policyName, 'required');
  const holders = names.filter((name) => policy.network_policies[name]!.binaries.some((b) => b.path === path));
  if (holders.length === 0) {
    const where = policyName === undefined ? 'no network policy lists it' : `network_policies.${policyName} does not list it`;
    throw new PolicyChangeError(`${where}; ${existingBinaries(policy, policyName)}`);
  }
  for (const name of holders) {
    const rule = policy.network_policies[name]!;
    rule.binaries = rule.binaries.filter((b) => b.path !== path);
  }
}

type RuleChange = Extract<PolicyChange, { op: 'add-rule' | 'remove-rule' | 'add-deny' }>;

function addDeny(policy: Policy, change: RuleChange): void {
  const { name, endpoint } = oneEndpoint(policy, change);
  const at = `endpoint ${endpointText(endpointHost(endpoint), change.port)} of network_policies.${name}`;
  if (endpoint.protocol !== 'rest' && endpoint.protocol !== 'websocket') {
    throw new PolicyChangeError(
      `${at} is ${endpoint.protocol === undefined ? 'a plain tunnel (no protocol)' : `protocol ${endpoint.protocol}`}, so a method/path deny rule cannot apply: ` +
        'remove it and add it again with protocol rest',
    );
  }
  const method = change.method.toUpperCase();
  if ((endpoint.deny_rules ?? []).some((m) => sameRule(m, method, change.path))) {
    throw new PolicyChangeError(`already denied: ${at} already has the deny rule ${method} ${change.path}`);
  }
  endpoint.deny_rules = [...(endpoint.deny_rules ?? []), { method, path: change.path }];
}

function addRule(policy: Policy, change: RuleChange, inForce: (message: string) => void): void {
  const { name, endpoint } = oneEndpoint(policy, change);
  const at = `endpoint ${endpointText(endpointHost(endpoint), change.port)} of network_policies.${name}`;
  if (endpoint.protocol !== 'rest' && endpoint.protocol !== 'websocket') {
    throw new PolicyChangeError(
      `${at} is ${endpoint.protocol === undefined ? 'a plain tunnel (no protocol)' : `protocol ${endpoint.protocol}`}, so method/path rules cannot apply: ` +
        'remove it and add it again with protocol rest',
    );
  }
  if (endpoint.access !== undefined) {
    throw new PolicyChangeError(
      `${at} uses access ${endpoint.access}, and access and rules cannot be combined: remove the endpoint and add it again with protocol rest and no access, then add its rules`,
    );
  }
  const method = change.method.toUpperCase();
  if ((endpoint.rules ?? []).some((r) => sameRule(r.allow, method, change.path))) {
    return inForce(`already allowed: ${at} already has the rule ${method} ${change.path}`);
  }
  endpoint.rules = [...(endpoint.rules ?? []), { allow: { method, path: change.path } }];
}

function removeRule(policy: Policy, change: RuleChange): void {
  const { name, endpoint } = oneEndpoint(policy, change);
  const method = change.method.toUpperCase();
  const rules = endpoint.rules ?? [];
  const kept = rules.filter((r) => !sameRule(r.allow, method, change.path));
  if (kept.length === rules.length) {
    const listed = rules.map((r) => `${r.allow.method ?? '*'} ${r.allow.path ?? '/**'}`);
    const have = listed.length === 0 ? 'it has no rules' : `its rules: ${listed.join(', ')}`;
    throw new PolicyChangeError(`endpoint ${endpointText(endpointHost(endpoint), change.port)} of network_policies.${name} has no rule ${method} ${change.path}; ${have}`);
  }
  // An empty rules list is refused by the schema; without rules the endpoint allows nothing.
  if (kept.length === 0) delete endpoint.rules;
  else endpoint.rules = kept;
}

function sameRule(match: { method?: string; path?: string; query?: unknown }, method: string, path: string): boolean {
  return match.query === undefined && (match.method ?? '').toUpperCase() === method && match.path === path;
}

// ---------------------------------------------------------------------------------------------
// Finding things

interface EndpointRef {
  name: string;
  endpoint: NetworkEndpoint;
}

function endpointsAt(policy: Policy, host: string, port: number, policyName?: string): EndpointRef[] {
  if (policyName !== undefined) networkPolicy(policy, policyName, 'required');
  const out: EndpointRef[] = [];
  for (const [name, rule] of Object.entries(policy.network_policies)) {
    if (policyName !== undefined && name !== policyName) continue;
    for (const endpoint of rule.endpoints) if (sameHost(endpoint.host, host) && endpoint.ports.includes(port)) out.push({ name, endpoint });
  }
  return out;
}

function oneEndpoint(policy: Policy, change: RuleChange): EndpointRef {
  const found = endpointsAt(policy, change.host, change.port, change.policyName);
  if (found.length === 0) throw new PolicyChangeError(`no such endpoint; ${existingEndpoints(policy, change.policyName)}`);
  if (found.length > 1) {
    const where = found.map((f) => `network_policies.${f.name}`).join(', ');
    throw new PolicyChangeError(`the endpoint is in more than one place (${where}): name the network policy to change`);
  }
  return found[0]!;
}

function networkPolicy(policy: Policy, name: string, need: 'required'): NetworkPolicy;
function networkPolicy(policy: Policy, name: string, need: 'optional'): NetworkPolicy | undefined;
function networkPolicy(policy: Policy, name: string, need: 'required' | 'optional'): NetworkPolicy | undefined {
  if (Object.hasOwn(policy.network_policies, name)) return policy.network_policies[name];
  if (need === 'optional') return undefined;
  const names = Object.keys(policy.network_policies);
  throw new PolicyChangeError(`no network policy named ${JSON.stringify(name)}; existing: ${names.join(', ') || 'none'}`);
}

function existingEndpoints(policy: Policy, policyName?: string): string {
  const list = Object.entries(policy.network_policies)
    .filter(([name]) => policyName === undefined || name === policyName)
    .flatMap(([name, rule]) => rule.endpoints.map((e) => `${endpointHost(e)}:${e.ports.join(',')} (${name})`));
  return `existing endpoints${policyName === undefined ? '' : ` of network_policies.${policyName}`}: ${list.join(', ') || 'none'}`;
}

function existingBinaries(policy: Policy, policyName?: string): string {
  const list = Object.entries(policy.network_policies)
    .filter(([name]) => policyName === undefined || name === policyName)
    .flatMap(([name, rule]) => rule.binaries.map((b) => `${b.path} (${name})`));
  return `listed binaries: ${list.join(', ') || 'none'}`;
}

function sameHost(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const canonical = (h: string) => {
    const lower = h.trim().toLowerCase();
    const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
    return bare.endsWith('.') ? bare.slice(0, -1) : bare;
  };
  return canonical(a) === canonical(b);
}

function endpointText(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// Diffs

export interface PolicyDiffEntry {
  /** Dotted path, e.g. `network_policies.pypi_org_443.endpoints[0].host`. */
  path: string;
  /** Absent for an addition. */
  before?: unknown;
  /** Absent for a removal. */
  after?: unknown;
}

export interface PolicyDiff {
  changes: PolicyDiffEntry[];
}

type Segment = string | number;

/**
 * What changed between two policies. Object keys are visited in sorted order, so the result
 * depends only on content. Lists are aligned on equal elements; an element that changed in
 * place is described field by field. Removed list elements carry their index in `before`,
 * added and changed ones their index in `after`.
 */
export function diffPolicies(before: Policy, after: Policy): PolicyDiff {
  const changes: PolicyDiffEntry[] = [];
  diffValue(before, after, [], changes);
  return { changes };
}

function diffValue(a: unknown, b: unknown, path: Segment[], out: PolicyDiffEntry[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) return void out.push({ path: formatPath(path), after: b });
  if (b === undefined) return void out.push({ path: formatPath(path), before: a });
  if (Array.isArray(a) && Array.isArray(b)) return diffLists(a, b, path, out);
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) diffValue(a[key], b[key], [...path, key], out);
    return;
  }
  if (!sameContent(a, b)) out.push({ path: formatPath(path), before: a, after: b });
}

function diffLists(a: unknown[], b: unknown[], path: Segment[], out: PolicyDiffEntry[]): void {
  const pairs = commonSubsequence(a, b);
  let i = 0;
  let j = 0;
  for (const [nextI, nextJ] of [...pairs, [a.length, b.length] as const]) {
    const removed = nextI - i;
    const added = nextJ - j;
    // A gap of equal size on both sides is the same elements edited in place.
    const inPlace = removed === added;
    for (let k = 0; inPlace && k < removed; k++) diffValue(a[i + k], b[j + k], [...path, j + k], out);
    if (!inPlace) {
      for (let k = i; k < nextI; k++) out.push({ path: formatPath([...path, k]), before: a[k] });
      for (let k = j; k < nextJ; k++) out.push({ path: formatPath([...path, k]), after: b[k] });
    }
    i = nextI + 1;
    j = nextJ + 1;
  }
}

/** Index pairs of a longest common subsequence of equal elements (policy lists are short). */
function commonSubsequence(a: unknown[], b: unknown[]): Array<[number, number]> {
  const lengths = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i]![j] = sameContent(a[i], b[j]) ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (sameContent(a[i], b[j])) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** One line per change: `+ path: value`, `- path: value`, `~ path: before -> after`. */
export function renderDiff(diff: PolicyDiff): string {
  if (diff.changes.length === 0) return '(no changes)';
  return diff.changes
    .map((c) => {
      if (!('before' in c)) return `+ ${c.path}: ${renderValue(c.after)}`;
      if (!('after' in c)) return `- ${c.path}: ${renderValue(c.before)}`;
      return `~ ${c.path}: ${renderValue(c.before)} -> ${renderValue(c.after)}`;
    })
    .join('\n');
}

function renderValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// ---------------------------------------------------------------------------------------------
// Static sections

/**
 * Sections fixed when a sandbox is created (DESIGN.md: filesystem and process; Landlock is
 * applied to the sandbox's processes at start, so it is fixed too). network_policies,
 * network_middlewares, inference and governance are enforced outside the sandbox (proxy,
 * gateway) and change live.
 */
export const STATIC_SECTIONS = ['filesystem_policy', 'landlock', 'process', 'limits', 'workdir_files'] as const;
export type StaticSection = (typeof STATIC_SECTIONS)[number];

/** The static sections that differ: a non-empty answer means the change needs a new sandbox. */
export function staticChanges(before: Policy, after: Policy): StaticSection[] {
  return STATIC_SECTIONS.filter((section) => !sameContent(before[section] ?? {}, after[section] ?? {}));
}

// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of plain data; object key order and keys holding undefined do not matter. */
function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameContent(v, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.every((k) => sameContent(a[k], b[k]));
}
