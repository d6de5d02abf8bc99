// Loading a policy file: YAML → closed schema → a complete Policy with defaults filled in.
// Every problem becomes a diagnostic with file, line and column; all of them are collected
// before anything is returned, and a file with any problem yields no Policy at all.

import { readFileSync } from 'node:fs';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { defaultPolicy } from './default.js';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { z } from 'zod';
import { unenforcedKeys } from './keys.js';
import { allowedKeysOf, policyFileSchema, presetFileSchema } from './schema.js';
import type { PolicyFile, PresetFile } from './schema.js';
import type { FilesystemPolicy, Policy } from './types.js';

/** One problem in a policy file. `line` and `column` are 1-based. */
export interface PolicyDiagnostic {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending key or value, e.g. `network_policies.npm.endpoints[0].port`. */
  path: string;
  /** What is wrong: what was expected and, where there was something, what was found. */
  message: string;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly diagnostics: PolicyDiagnostic[];

  constructor(diagnostics: PolicyDiagnostic[]) {
    super(`invalid policy (${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}):\n${formatDiagnostics(diagnostics)}`);
    this.diagnostics = diagnostics;
  }

  /** One line per problem: `file:line:column: path: message`. */
  format(): string {
    return formatDiagnostics(this.diagnostics);
  }
}

function formatDiagnostics(diagnostics: PolicyDiagnostic[]): string {
  return diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.path === '' ? '' : `${d.path}: `}${d.message}`).join('\n');
}

/** OpenShell's limit; a policy is a small file, and a huge one is a mistake or an attack. */
const MAX_POLICY_BYTES = 4 * 1024 * 1024;
const MAX_ALIAS_EXPANSIONS = 100;
const COMPLEX_KEY = 'expected a plain key, got a mapping or list used as a key';

export function loadPolicyFile(path: string): Policy {
  return parsePolicy(readFileSync(path, 'utf8'), path);
}

export function parsePolicy(text: string, file: string): Policy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: `expected a file of at most ${MAX_POLICY_BYTES} bytes` }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: false });
  const locate = new Locator(doc, lineCounter, file);

  const syntax = [...doc.errors, ...doc.warnings].map((error) => locate.yamlError(error));
  if (syntax.length > 0) throw new PolicyError(sortDiagnostics(syntax));

  const structural = locate.keyProblems();
  // A mapping or list used as a key has no JS object form: nothing more can be checked.
  if (structural.some((d) => d.message.startsWith(COMPLEX_KEY))) throw new PolicyError(sortDiagnostics(structural));
  const root = doc.contents;
  if (!isMap(root)) {
    const what = root === null ? 'an empty document' : describe(doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS }));
    throw new PolicyError([...structural, locate.at([], `expected a mapping with "version: 1" at the top level, got ${what}`)]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    throw new PolicyError([...structural, locate.at([], `cannot expand the document: ${(error as Error).message}`)]);
  }
  const isPreset = root.has('preset');
  const result = (isPreset ? presetFileSchema : policyFileSchema).safeParse(data);
  const problems = [...structural, ...(result.success ? [] : result.error.issues.flatMap((i) => locate.issue(i, data)))];
  if (problems.length > 0 || !result.success) throw new PolicyError(sortDiagnostics(dedupe(problems)));
  const findings = unenforcedKeys(data);
  const errors = findings.filter((f) => f.kind === 'error').map((f) => locate.at(f.path, f.message, 'key'));
  if (errors.length > 0) throw new PolicyError(sortDiagnostics(errors));
  const policy = isPreset ? presetToPolicy(result.data as PresetFile) : fileToPolicy(result.data as PolicyFile);
  WARNINGS.set(policy, sortDiagnostics(findings.filter((f) => f.kind === 'warning').map((f) => locate.at(f.path, f.message, 'key'))));
  return policy;
}

const WARNINGS = new WeakMap<Policy, PolicyDiagnostic[]>();

/**
 * What loading `policy` warned about: keys it contains that have no effect in warden (policy/keys.ts).
 * Whoever loads a policy for a user shows these on stderr: a key is never ignored silently.
 */
export function policyWarnings(policy: Policy): PolicyDiagnostic[] {
  return WARNINGS.get(policy) ?? [];
}

/** One line per warning: `warden: warning: file:line:column: path: message`. */
export function formatWarning(d: PolicyDiagnostic): string {
  return `warden: warning: ${formatDiagnostics([d])}`;
}

// ---------------------------------------------------------------------------------------------
// Defaults

function fileToPolicy(file: PolicyFile): Policy {
  const policy: Policy = {
    version: 1,
    filesystem_policy: filesystemDefaults(file.filesystem_policy),
    landlock: file.landlock ?? {},
    process: file.process ?? {},
    network_policies: file.network_policies ?? {},
  };
  if (file.network_middlewares !== undefined) policy.network_middlewares = file.network_middlewares;
  if (file.inference !== undefined) policy.inference = file.inference;
  if (file.governance !== undefined) policy.governance = file.governance;
  if (file.limits !== undefined) policy.limits = file.limits;
  if (file.workdir_files !== undefined) policy.workdir_files = file.workdir_files;
  return policy;
}

/**
 * An absent filesystem_policy means the default policy's (system directories read-only, the
 * workdir and /tmp writable), so a file with only network rules still runs programs; a
 * present one is read as written, so `filesystem_policy: {}` keeps the workdir out, as in
 * OpenShell.
 */
function filesystemDefaults(fs: PolicyFile['filesystem_policy']): FilesystemPolicy {
  if (fs === undefined) return defaultPolicy().filesystem_policy;
  return { include_workdir: fs.include_workdir ?? false, read_only: fs.read_only ?? [], read_write: fs.read_write ?? [] };
}

function presetToPolicy(file: PresetFile): Policy {
  return {
    version: 1,
    preset: file.preset,
    filesystem_policy: filesystemDefaults(undefined),
    landlock: {},
    process: {},
    network_policies: file.network_policies,
  };
}

// ---------------------------------------------------------------------------------------------
// Turning problems into located diagnostics

type Segment = string | number;

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  yamlError(error: { message: string; pos: [number, number] }): PolicyDiagnostic {
    // The yaml package appends " at line N, column M" and a source excerpt; we give our own.
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    return this.diagnostic(error.pos[0], '', `YAML syntax: ${message}`);
  }

  at(path: Segment[], message: string, where: 'key' | 'value' = 'value'): PolicyDiagnostic {
    return this.diagnostic(this.offsetOf(path, where), formatPath(path), message);
  }

  /** Duplicate keys, non-scalar keys and `__proto__`: problems the JS value can no longer show. */
  keyProblems(): PolicyDiagnostic[] {
    const problems: PolicyDiagnostic[] = [];
    const walk = (node: unknown, path: Segment[]) => {
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) {
            problems.push(this.diagnostic(rangeStart(pair.key) ?? rangeStart(node) ?? 0, formatPath(path), COMPLEX_KEY));
            continue;
          }
          const key = String(pair.key.value);
          if (key === '__proto__') {
            problems.push(this.diagnostic(rangeStart(pair.key) ?? 0, formatPath([...path, key]), 'the key "__proto__" is not allowed'));
          } else if (seen.has(key)) {
            problems.push(this.diagnostic(rangeStart(pair.key) ?? 0, formatPath([...path, key]), `duplicate key "${key}": each key may appear once`));
          }
          seen.add(key);
          walk(pair.value, [...path, key]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => walk(item, [...path, index]));
      }
    };
    walk(this.doc.contents, []);
    return problems;
  }

  issue(issue: z.core.$ZodIssue, data: unknown): PolicyDiagnostic[] {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysOf(issue.message) ?? [];
      return issue.keys.map((key) => this.at([...path, key], unknownKeyMessage(key, allowed), 'key'));
    }
    const params = (issue as { params?: { at?: 'key' | 'value' } }).params;
    const found = valueAt(data, path);
    if (found.missing) {
      const key = path[path.length - 1];
      const why = issue.message.startsWith('expected') ? ` (${issue.message})` : `: ${issue.message}`;
      return [this.at(path.slice(0, -1), `missing required key ${JSON.stringify(String(key))}${why}`)];
    }
    let message = issue.message;
    // A custom check on a whole mapping explains itself; describing the mapping adds nothing.
    const aboutMapping = issue.code === 'custom' && typeof found.value === 'object' && found.value !== null;
    if (message.startsWith('expected') && params?.at !== 'key' && !aboutMapping) message += `, got ${describe(found.value)}`;
    if (issue.code === 'invalid_value' && typeof found.value === 'string') {
      const suggestion = closest(found.value, issue.values.map(String));
      if (suggestion) message += `; did you mean ${JSON.stringify(suggestion)}?`;
    }
    return [this.at(path, message, params?.at ?? 'value')];
  }

  private offsetOf(path: Segment[], where: 'key' | 'value'): number {
    let node: unknown = this.doc.contents;
    let pair: Pair | undefined;
    for (const segment of path) {
      node = this.resolve(node);
      pair = undefined;
      if (isMap(node)) {
        pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
      } else {
        break;
      }
    }
    // A key written without a value (`name:`) has an empty value node: point at the key.
    if (pair && (where === 'key' || isEmptyNode(pair.value))) return rangeStart(pair.key) ?? 0;
    return rangeStart(node) ?? (pair ? rangeStart(pair.key) : undefined) ?? 0;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  private diagnostic(offset: number, path: string, message: string): PolicyDiagnostic {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, path, message };
  }
}

function isEmptyNode(node: unknown): boolean {
  const range = (node as YamlNode | null | undefined)?.range;
  return !range || range[0] === range[1];
}

function rangeStart(node: unknown): number | undefined {
  if (isPair(node)) return rangeStart(node.key);
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function valueAt(data: unknown, path: Segment[]): { missing: boolean; value: unknown } {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segment)) {
      return { missing: true, value: undefined };
    }
    value = (value as Record<string | number, unknown>)[segment];
  }
  return { missing: false, value };
}

/** `network_policies.npm.endpoints[0].port`; keys that are not plain words are quoted. */
export function formatPath(path: Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

function unknownKeyMessage(key: string, allowed: string[]): string {
  const suggestion = closest(key, allowed);
  if (suggestion) return `unknown key ${JSON.stringify(key)}; did you mean ${JSON.stringify(suggestion)}?`;
  return `unknown key ${JSON.stringify(key)}; expected one of: ${allowed.join(', ')}`;
}

/** The allowed word nearest to `word`, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(1, Math.floor(word.length / 3));
  if (best !== undefined && bestDistance <= tolerance && best !== word) return best;
  // A shortened name ("routes" for "allowed_routes") is also a likely slip.
  if (lower.length < 4) return undefined;
  const containing = candidates.filter((c) => c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase()));
  return containing.length === 1 ? containing[0] : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function sortDiagnostics(diagnostics: PolicyDiagnostic[]): PolicyDiagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

function dedupe(diagnostics: PolicyDiagnostic[]): PolicyDiagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.line}:${d.column}:${d.path}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
