// Shared helpers for the policy tests: fixture paths and "this text must be rejected" checks.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePolicy, PolicyError } from '../../src/policy/loader.js';
import type { Policy, PolicyDiagnostic } from '../../src/policy/index.js';

/** Tests run from dist/test/policy/; the repository root is three levels up. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function fixture(name: string): string {
  return path.join(repoRoot, 'test', 'fixtures', 'policy', name);
}

/** Joins lines with newlines, so that line and column numbers in a test are easy to read. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

export function accept(text: string): Policy {
  return parsePolicy(text, 'p.yaml');
}

/** Every diagnostic for a text that must be rejected. */
export function reject(text: string): PolicyDiagnostic[] {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return error.diagnostics;
    throw error;
  }
  return assert.fail(`expected the policy to be rejected:\n${text}`);
}

/** The single diagnostic for a text that must be rejected for exactly one reason. */
export function rejectOnce(text: string): PolicyDiagnostic {
  const diagnostics = reject(text);
  assert.equal(diagnostics.length, 1, `expected one problem, got:\n${describe(diagnostics)}`);
  return diagnostics[0]!;
}

export function describe(diagnostics: PolicyDiagnostic[]): string {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.path}: ${d.message}`).join('\n');
}

/** Asserts position and path exactly, and that the message contains `fragment`. */
export function assertAt(d: PolicyDiagnostic, line: number, column: number, pathText: string, fragment: string | RegExp): void {
  assert.deepEqual({ line: d.line, column: d.column, path: d.path }, { line, column, path: pathText }, d.message);
  if (typeof fragment === 'string') assert.ok(d.message.includes(fragment), `message "${d.message}" should contain "${fragment}"`);
  else assert.match(d.message, fragment);
}

/**
 * A policy whose only network endpoint has `host` on line 5, column 15, and the given extra
 * endpoint fields (each already indented by 8 spaces) from line 6 on.
 */
export function endpointPolicy(host: string, ...fields: string[]): string {
  return yaml(
    'version: 1',
    'network_policies:',
    '  p:',
    '    endpoints:',
    `      - host: ${host}`,
    ...fields.map((field) => `        ${field}`),
  );
}
