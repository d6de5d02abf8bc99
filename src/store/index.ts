import os from 'node:os';
import path from 'node:path';

/** warden's state directory: WARDEN_HOME, default ~/.warden. */
export function wardenHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.WARDEN_HOME;
  return path.resolve(configured !== undefined && configured !== '' ? configured : path.join(os.homedir(), '.warden'));
}
