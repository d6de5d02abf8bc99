import type { SandboxUser } from './host-user.js';

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class EnvError extends Error {}

/**
 * The complete environment inside a sandbox. Nothing of the host's environment leaks in
 * (API keys live in environment variables); only warden's own settings, TERM when a terminal
 * is attached, and what the caller passes explicitly with --env.
 */
export function sandboxEnvironment(opts: {
  user: SandboxUser;
  hostname: string;
  sandboxName: string;
  cwd: string;
  /** HOME inside (the sandbox's own home); default: cwd. */
  home?: string;
  term?: string;
  extra: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: opts.home ?? opts.cwd,
    USER: opts.user.name,
    LOGNAME: opts.user.name,
    SHELL: '/bin/sh',
    HOSTNAME: opts.hostname,
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    WARDEN_SANDBOX: opts.sandboxName,
  };
  if (opts.term !== undefined) env.TERM = opts.term;
  return { ...env, ...opts.extra };
}

/** Parses repeated `--env K=V` values; a bare `K` is an error, not a copy of the host's K. */
export function parseEnvAssignments(assignments: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    const key = eq > 0 ? assignment.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new EnvError(`--env ${JSON.stringify(assignment)}: expected NAME=VALUE with NAME made of letters, digits and _`);
    }
    result[key] = assignment.slice(eq + 1);
  }
  return result;
}
