// --memory, --cpus and --pids of `warden run` and `warden sandbox create`: per-sandbox settings
// on top of the policy's `limits:` section.
import type { Command } from 'commander';
import { CliError } from './output.js';
import type { Policy, ResourceLimitsPolicy } from '../policy/index.js';

export interface LimitFlags {
  memory?: string;
  cpus?: string;
  pids?: string;
}

export function addLimitOptions(command: Command): Command {
  return command
    .option('--memory <size>', 'memory limit, e.g. 2G or 512M (default: 4G, or half the host\'s RAM if less)')
    .option('--cpus <n>', 'CPU limit in CPUs, e.g. 1.5 (default: all the host\'s CPUs)')
    .option('--pids <n>', 'limit on processes and threads (default: 4096)');
}

/** The policy with the flags' limits on top; a malformed value is a usage error. */
export async function withLimitFlags(policy: Policy, flags: LimitFlags): Promise<Policy> {
  if (flags.memory === undefined && flags.cpus === undefined && flags.pids === undefined) return policy;
  // Loaded only when a flag needs it: the policy component is most of warden's start-up time.
  const { parseSize } = await import('../policy/index.js');
  const limits: ResourceLimitsPolicy = { ...policy.limits };
  if (flags.memory !== undefined) {
    const bytes = parseSize(flags.memory);
    if (bytes === undefined || bytes < 4 * 1024 * 1024) throw new CliError('usage', `--memory ${flags.memory}: expected a size of at least 4M, such as 512M or 2G`, 2);
    limits.memory = bytes;
  }
  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!Number.isFinite(cpus) || cpus < 0.01 || cpus > 1024) throw new CliError('usage', `--cpus ${flags.cpus}: expected a number of CPUs from 0.01 to 1024, such as 1.5`, 2);
    limits.cpus = cpus;
  }
  if (flags.pids !== undefined) {
    const pids = Number(flags.pids);
    if (!Number.isInteger(pids) || pids < 1 || pids > 4_194_304) throw new CliError('usage', `--pids ${flags.pids}: expected a whole number from 1 to 4194304`, 2);
    limits.pids = pids;
  }
  return Object.keys(limits).length === 0 ? policy : { ...policy, limits };
}
