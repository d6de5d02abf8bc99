import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './output.js';
import { describeReadError, showingWarnings } from './policy.js';
import type { RunCliOptions } from './main.js';
import { withLimitFlags } from './limits.js';
import { defaultPolicy, policyLoader, type Policy } from '../policy/index.js';
import {
  CommandNotFoundError, CommandNotRunnableError, EnvError, HostAddonError, LandlockRequiredError, MissingToolError, MountPlanError, NativeHelperMissingError,
  NetworkBridgeError, parseEnvAssignments, runInSandbox, SandboxSetupError, SandboxUserError, UidLeaseError, WorkdirError,
} from '../sandbox/index.js';
import { isValidSandboxName, wardenHome } from '../store/index.js';

const SETUP_FAILED = 125;

export async function runCommand(command: string[], opts: RunCliOptions): Promise<number> {
  try {
    const policy = await withLimitFlags(await withPresets(await loadRunPolicy(opts.policy), opts.preset ?? []), opts);
    const env = parseEnvAssignments(opts.env ?? []);
    if (opts.name !== undefined && !isValidSandboxName(opts.name)) {
      throw new CliError('usage', `--name ${JSON.stringify(opts.name)}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`, 2);
    }
    const name = opts.name ?? `run-${randomBytes(3).toString('hex')}`;
    const home = wardenHome();
    // No network policies and no model calls (an inference section and a route), no proxy: the
    // sandbox then has no network at all, and starts without loading the egress component.
    const networked = Object.keys(policy.network_policies).length > 0 || (policy.inference !== undefined && existsSync(path.join(home, 'inference.json')));
    const records = await (await import('./run-records.js')).openRunRecords(home, name, { argv: command, networked, ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}) });
    let exitCode = SETUP_FAILED;
    try {
      const net = networked ? await (await import('./network.js')).prepareRunNetwork(policy, name, records, opts.events, home) : undefined;
      try {
        const result = await runInSandbox({
          policy, command, name,
          env: { ...net?.env, ...env },
          workdir: opts.workdir,
          wardenHome: home,
          files: net?.files,
          network: net?.network,
          // A terminal of its own, as `warden connect` gives: job control, `tty`, Ctrl-C for CMD.
          terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY),
        });
        exitCode = result.exitCode;
        return exitCode;
      } finally {
        await net?.close();
      }
    } finally {
      await records.finish(exitCode);
    }
  } catch (error) {
    throw toCliError(error);
  }
}

async function loadRunPolicy(file: string | undefined): Promise<Policy> {
  // The policy loader (YAML + schema) is loaded only when a file is given: it is most of
  // warden's start-up time, and the default policy does not need it.
  if (file === undefined) {
    return defaultPolicy();
  }
  const { loadPolicyFile } = await policyLoader();
  try {
    return await showingWarnings(loadPolicyFile(file));
  } catch (error) {
    if (error instanceof Error && (error as NodeJS.ErrnoException).code !== undefined) {
      throw new CliError('policy_unreadable', describeReadError(file, error as NodeJS.ErrnoException), SETUP_FAILED);
    }
    throw error;
  }
}

async function withPresets(policy: Policy, presets: string[]): Promise<Policy> {
  if (presets.length === 0) return policy;
  const { loadPreset, mergePolicies, PolicyMergeError, PresetError } = await policyLoader();
  try {
    return presets.reduce((merged, name) => mergePolicies(merged, loadPreset(name)), policy);
  } catch (error) {
    if (error instanceof PresetError) throw new CliError('unknown_preset', `${error.message} (\`warden preset list\` shows the shipped presets)`, 2);
    if (error instanceof PolicyMergeError) {
      throw new CliError('preset_conflict', `${error.message}: the policy already defines ${error.conflicts.join(', ')} differently`, SETUP_FAILED);
    }
    throw error;
  }
}

function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof CommandNotFoundError) {
    return new CliError(error.reason === 'missing' ? 'command_not_found' : 'command_not_executable', error.message,
      error.reason === 'missing' ? 127 : 126, { command: error.command });
  }
  if (isPolicyError(error)) {
    return new CliError('policy_invalid', `invalid policy:\n${error.format()}\nNothing was run. Fix the file (\`warden policy validate FILE\` checks it) and retry.`,
      SETUP_FAILED, { diagnostics: error.diagnostics });
  }
  if (error instanceof EnvError) return new CliError('usage', error.message, 2);
  for (const [type, code] of [
    [MissingToolError, 'missing_prerequisite'], [LandlockRequiredError, 'landlock_unavailable'],
    [MountPlanError, 'filesystem_setup'], [WorkdirError, 'workdir'], [SandboxUserError, 'sandbox_user'], [UidLeaseError, 'sandbox_user'],
    [SandboxSetupError, 'sandbox_setup'], [NetworkBridgeError, 'network_setup'], [NativeHelperMissingError, 'missing_prerequisite'],
    [HostAddonError, 'missing_prerequisite'], [CommandNotRunnableError, 'filesystem_setup'],
  ] as const) {
    if (error instanceof type) return new CliError(code, error.message, SETUP_FAILED);
  }
  if ((error as NodeJS.ErrnoException)?.code === 'ENOENT' || (error as NodeJS.ErrnoException)?.code === 'EACCES') {
    return new CliError('file_access', (error as Error).message, SETUP_FAILED);
  }
  return CliError.from(error);
}

interface PolicyErrorLike extends Error {
  diagnostics: unknown[];
  format(): string;
}

function isPolicyError(error: unknown): error is PolicyErrorLike {
  return error instanceof Error && error.name === 'PolicyError' && 'diagnostics' in error;
}
