import { accessSync, constants } from 'node:fs';

export class MissingToolError extends Error {
  constructor(readonly tool: string, readonly debianPackage: string) {
    super(`${tool} is not installed: warden needs it to build sandboxes. ` +
      `Install it with \`sudo apt-get install -y ${debianPackage}\` (or your distribution's ${debianPackage} package), then retry. ` +
      '`warden doctor` checks every prerequisite.');
  }
}

/** System directories only: a tool found through the caller's PATH could be anything. */
const TRUSTED_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];
const found = new Map<string, string>();

export function findTool(tool: string, debianPackage: string): string {
  const cached = found.get(tool);
  if (cached) return cached;
  for (const dir of TRUSTED_DIRS) {
    const candidate = `${dir}/${tool}`;
    try {
      accessSync(candidate, constants.X_OK);
      found.set(tool, candidate);
      return candidate;
    } catch {
      // try the next directory
    }
  }
  throw new MissingToolError(tool, debianPackage);
}
