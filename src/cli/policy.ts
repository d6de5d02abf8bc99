import { readFileSync } from 'node:fs';
import { CliError, printJsonResult, printLine } from './output.js';

import { policyLoader, type Policy, type PolicyDiagnostic } from '../policy/index.js';

interface FileResult {
  file: string;
  valid: boolean;
  kind?: 'policy' | 'preset';
  network_policies?: number;
  /** Set when the file could not be read at all. */
  error?: string;
  diagnostics: PolicyDiagnostic[];
  /** Keys that load but have no effect in warden. */
  warnings: PolicyDiagnostic[];
}

/** Prints what loading `policy` warned about on stderr (keys with no effect), and returns it. */
export async function showingWarnings(policy: Policy): Promise<Policy> {
  const { formatWarning, policyWarnings } = await policyLoader();
  for (const warning of policyWarnings(policy)) printLine(2, formatWarning(warning));
  return policy;
}


export async function policyValidateCommand(files: string[], opts: { json: boolean }): Promise<number> {
  const { loadPolicyFile, parsePolicy, PolicyError, policyWarnings, formatWarning } = await policyLoader();
  const results: FileResult[] = [];
  for (const file of files) {
    try {
      // `-` is standard input (`generate-policy | warden policy validate -`), named <stdin>.
      const policy = file === '-' ? parsePolicy(readFileSync(0, 'utf8'), '<stdin>') : loadPolicyFile(file);
      const warnings = policyWarnings(policy);
      // Warnings go to stderr in both modes: a key with no effect is never passed over silently.
      for (const warning of warnings) printLine(2, formatWarning(warning));
      results.push({ file, valid: true, kind: policy.preset ? 'preset' : 'policy',
        network_policies: Object.keys(policy.network_policies).length, diagnostics: [], warnings });
    } catch (error) {
      if (error instanceof PolicyError) {
        results.push({ file, valid: false, diagnostics: error.diagnostics, warnings: [] });
      } else if (error instanceof Error && (error as NodeJS.ErrnoException).code !== undefined) {
        results.push({ file, valid: false, error: describeReadError(file, error as NodeJS.ErrnoException), diagnostics: [], warnings: [] });
      } else {
        throw CliError.from(error);
      }
    }
  }
  if (opts.json) {
    const invalid = results.filter((r) => !r.valid).map((r) => r.file);
    printJsonResult(results, invalid.length === 0 ? undefined : { code: 'policy_invalid', message: `not valid: ${invalid.join(', ')}` });
  } else {
    for (const result of results) printResult(result);
  }
  return results.every((r) => r.valid) ? 0 : 1;
}

function printResult(result: FileResult): void {
  if (result.valid) {
    printLine(1, `${result.file}: valid ${result.kind} (${result.network_policies} network polic${result.network_policies === 1 ? 'y' : 'ies'})`);
    return;
  }
  if (result.error !== undefined) {
    printLine(2, result.error);
    return;
  }
  for (const d of result.diagnostics) printLine(2, `${d.file}:${d.line}:${d.column}: ${d.path ? d.path + ': ' : ''}${d.message}`);
  printLine(2, `${result.file}: invalid (${result.diagnostics.length} problem${result.diagnostics.length === 1 ? '' : 's'})`);
}

/** "cannot read policy file p.yaml: no such file or directory", without Node's errno noise. */
export function describeReadError(file: string, error: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'it is a directory, not a file',
  };
  return `cannot read policy file ${file}: ${reasons[error.code ?? ''] ?? error.message}`;
}
