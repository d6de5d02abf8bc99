import { statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { permits } from './host-user.js';
import { hostPathOf, type MountPlan } from './mounts.js';

export class CommandNotFoundError extends Error {
  constructor(readonly command: string, readonly searched: string[], readonly reason: 'missing' | 'not-executable') {
    super(reason === 'missing'
      ? `${command}: command not found inside the sandbox (looked in ${searched.join(', ')}); ` +
        'the sandbox sees only the paths its policy lists'
      : `${command}: found inside the sandbox but it is not an executable file`);
  }
}

/**
 * Finds the executable the sandbox will run, the way execvp would inside it, by mapping
 * sandbox paths through the mount plan. Doing this before starting lets warden report
 * "not found" (exit 127) clearly instead of a bubblewrap error that looks like CMD's own.
 */
export function resolveCommand(plan: MountPlan, command: string, searchPath: string, cwd: string, runAs: { uid: number; gid: number }): string {
  const candidates = command.includes('/')
    ? [path.posix.resolve(cwd, command)]
    : searchPath.split(':').filter(Boolean).map((dir) => path.posix.join(dir, command));
  let sawNonExecutable = false;
  for (const inside of candidates) {
    const host = hostPathOf(plan, inside);
    if (host === undefined) continue;
    const stat = statOrUndefined(host);
    if (!stat?.isFile()) continue;
    if (permits(stat, runAs, 'execute')) return inside;
    sawNonExecutable = true;
  }
  throw new CommandNotFoundError(command, command.includes('/') ? candidates : searchPath.split(':'),
    sawNonExecutable ? 'not-executable' : 'missing');
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES/ENOTDIR on the way: not reachable, so not found
  }
}
