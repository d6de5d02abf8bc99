import path from 'node:path';

/** Where the gateway keeps its files inside WARDEN_HOME (0700: only its owner gets in). */
export function gatewayPaths(home: string) {
  return {
    socket: path.join(home, 'gateway.sock'),
    lock: path.join(home, 'gateway.lock'),
    log: path.join(home, 'gateway.log'),
    sandboxes: path.join(home, 'sandboxes'),
  };
}

/**
 * A named sandbox's own directory: its default workdir, its home (HOME inside) and the log of its
 * main command. A plain `sandbox delete` keeps it; `--purge` removes it.
 */
export function sandboxDirectory(home: string, name: string) {
  const dir = path.join(gatewayPaths(home).sandboxes, name);
  return { dir, workdir: path.join(dir, 'workdir'), home: path.join(dir, 'home'), mainLog: path.join(dir, 'main.log') };
}
