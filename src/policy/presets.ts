// Presets: named bundles of network policies shipped in presets/ at the package root (npm,
// pypi, github...), and merging network policies into a policy without ever overwriting a
// rule silently.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadPolicyFile } from './load.js';
import { wardenPackageDir } from './package-dir.js';
import type { NetworkPolicy, Policy } from './types.js';

export interface PresetInfo {
  /** The preset's name, which is also its file name without `.yaml`. */
  name: string;
  description: string;
  /** Absolute path of the preset file. */
  file: string;
  /** The network policy keys the preset adds, in file order. */
  policies: string[];
  /** Endpoints across all of its network policies. */
  endpoints: number;
}

export type PresetErrorCode = 'unknown_preset' | 'bad_preset_name' | 'not_a_preset' | 'name_mismatch' | 'no_preset_dir';

export class PresetError extends Error {
  override readonly name = 'PresetError';
  constructor(
    message: string,
    readonly code: PresetErrorCode,
  ) {
    super(message);
  }
}

/** Thrown when merging would change a network policy that already exists. */
export class PolicyMergeError extends Error {
  override readonly name = 'PolicyMergeError';
  constructor(readonly conflicts: string[]) {
    const list = conflicts.map((k) => JSON.stringify(k)).join(', ');
    super(
      `network polic${conflicts.length === 1 ? 'y' : 'ies'} ${list} already exist${conflicts.length === 1 ? 's' : ''} with different content; ` +
        'remove or rename the existing one, or replace it explicitly',
    );
  }
}

export interface MergeOptions {
  /** Let the addition's version of a key replace a different one already in the base. */
  replace?: boolean;
}

const PRESET_SUFFIX = '.yaml';
/** Preset names become file names: no separators, no dots, nothing a path could climb with. */
const PRESET_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The presets/ directory of the warden package. */
export function defaultPresetDir(): string {
  try {
    return path.join(wardenPackageDir(), 'presets');
  } catch (error) {
    throw new PresetError(`${(error as Error).message}, so the shipped presets cannot be found`, 'no_preset_dir');
  }
}

/**
 * Every preset in `dir`, sorted by name. A file that does not load, is not a preset, or
 * whose `preset.name` differs from its file name makes the whole listing fail: a broken
 * preset is reported, never skipped.
 */
export function listPresets(dir: string = defaultPresetDir()): PresetInfo[] {
  return presetNames(dir).map((name) => describePreset(name, dir));
}

/** The preset called `name` from `dir`, loaded and validated like any policy file. */
export function loadPreset(name: string, dir: string = defaultPresetDir()): Policy {
  if (!PRESET_NAME.test(name)) {
    throw new PresetError(`${JSON.stringify(name)} is not a preset name: expected lower-case letters, digits and "-"`, 'bad_preset_name');
  }
  const available = presetNames(dir);
  if (!available.includes(name)) {
    throw new PresetError(`unknown preset ${JSON.stringify(name)}; available: ${available.join(', ') || 'none'}`, 'unknown_preset');
  }
  return readPreset(presetFile(name, dir), name);
}

function presetNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith(PRESET_SUFFIX))
    .map((e) => e.name.slice(0, -PRESET_SUFFIX.length))
    .filter((name) => PRESET_NAME.test(name))
    .sort();
}

function presetFile(name: string, dir: string): string {
  return path.resolve(dir, name + PRESET_SUFFIX);
}

function readPreset(file: string, name: string): Policy {
  const policy = loadPolicyFile(file);
  if (policy.preset === undefined) {
    throw new PresetError(`${file} is a policy, not a preset: a preset file starts with a "preset:" header`, 'not_a_preset');
  }
  if (policy.preset.name !== name) {
    throw new PresetError(
      `${file} names its preset ${JSON.stringify(policy.preset.name)}, but a preset's name must be its file name, ${JSON.stringify(name)}`,
      'name_mismatch',
    );
  }
  return policy;
}

function describePreset(name: string, dir: string): PresetInfo {
  const file = presetFile(name, dir);
  const policy = readPreset(file, name);
  return {
    name,
    description: policy.preset?.description ?? '',
    file,
    policies: Object.keys(policy.network_policies),
    endpoints: Object.values(policy.network_policies).reduce((n, rule) => n + rule.endpoints.length, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Merging

/**
 * A copy of `base` with the network policies of `addition` (a preset, a policy, or a map of
 * network policies) added. Only network policies are merged; the addition's other sections
 * are not looked at. A key already in `base` with the same content is left as it is, so
 * merging a preset twice changes nothing; with different content it is an error listing
 * every such key, unless `opts.replace` is set. Neither argument is modified.
 */
export function mergePolicies(base: Policy, addition: Policy | Record<string, NetworkPolicy>, opts: MergeOptions = {}): Policy {
  const incoming = isPolicy(addition) ? addition.network_policies : addition;
  const existing = base.network_policies;
  const conflicts: string[] = [];
  for (const key of Object.keys(incoming)) {
    // A "__proto__" key would set the prototype of the map instead of adding a rule.
    if (key === '__proto__') throw new TypeError('"__proto__" cannot be a network policy key');
    if (Object.hasOwn(existing, key) && !sameContent(existing[key], incoming[key]) && opts.replace !== true) conflicts.push(key);
  }
  if (conflicts.length > 0) throw new PolicyMergeError(conflicts);

  const merged = structuredClone(base);
  for (const [key, rule] of Object.entries(incoming)) merged.network_policies[key] = structuredClone(rule);
  return merged;
}

/** A Policy always has `version: 1`; a map of network policies never has a number there. */
function isPolicy(value: Policy | Record<string, NetworkPolicy>): value is Policy {
  return (value as { version?: unknown }).version === 1;
}

/** Deep equality of plain data: object key order does not matter, array order does. */
function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameContent(v, b[i]));
  const ak = definedKeys(a as Record<string, unknown>);
  const bk = definedKeys(b as Record<string, unknown>);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(b, k) && sameContent((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Keys whose value is not undefined: `{ name: undefined }` and `{}` describe the same rule. */
function definedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}
