// Port forwarding: 127.0.0.1:HOSTPORT on the host relayed to 127.0.0.1:PORT inside a sandbox
// (its own network namespace), for an agent's dashboard or API. Kept per sandbox in its
// directory (forwards.json) and opened whenever the sandbox runs.
//
// Security invariants:
// - The host side listens on 127.0.0.1 only, never on other interfaces.
// - The direction is host -> sandbox only: the sandbox's side is a helper in its network
//   namespace that dials its loopback (openSandboxConnector); nothing inside can reach the host's
//   listener (another namespace) or make the helper dial anything but the forwarded port.
// - Host ports below 1024 are refused: the gateway may run as root, and a forward must not take
//   a system service's port.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openSandboxConnector, type SandboxConnector } from '../sandbox/index.js';
import { GatewayError } from './protocol.js';

export interface ForwardSpec {
  /** The port inside the sandbox. */
  port: number;
  /** The port on the host's 127.0.0.1. */
  hostPort: number;
}

export interface ForwardView extends ForwardSpec {
  sandbox: string;
  /** Listening now (the sandbox runs and the host port was free). */
  active: boolean;
  /** Why it is not active, when the sandbox runs. */
  problem?: string;
}

/** Connections relayed at once per forward; more wait in the listen backlog. */
const MAX_CONNECTIONS = 256;
export const MIN_HOST_PORT = 1024;

interface Open {
  spec: ForwardSpec;
  server?: net.Server;
  problem?: string;
  sockets: Set<net.Socket>;
}

interface SandboxForwards {
  connector?: SandboxConnector;
  initPid: number;
  open: Map<number, Open>;
}

export class Forwards {
  private readonly running = new Map<string, SandboxForwards>();

  constructor(
    private readonly file: (sandbox: string) => string,
    private readonly log: (line: string) => void,
  ) {}

  /** The forwards kept for a sandbox. */
  saved(sandbox: string): ForwardSpec[] {
    try {
      const parsed = JSON.parse(readFileSync(this.file(sandbox), 'utf8')) as unknown;
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((f): f is ForwardSpec => validPort((f as ForwardSpec)?.port) && validPort((f as ForwardSpec)?.hostPort));
    } catch {
      return [];
    }
  }

  private save(sandbox: string, specs: ForwardSpec[]): void {
    if (specs.length === 0) rmSync(this.file(sandbox), { force: true });
    else writeFileSync(this.file(sandbox), JSON.stringify(specs) + '\n', { mode: 0o600 });
  }

  /** Keeps a forward for a sandbox that does not run yet (create: opened when it starts). */
  saveOnly(sandbox: string, spec: ForwardSpec): void {
    this.save(sandbox, [...this.saved(sandbox).filter((s) => s.port !== spec.port), spec].sort((a, b) => a.port - b.port));
  }

  /** Forgets a sandbox's forwards (its record is gone). */
  forget(sandbox: string): void {
    rmSync(this.file(sandbox), { force: true });
  }

  /** Checks a new forward against the ones kept, and every other sandbox's. */
  check(sandbox: string, spec: ForwardSpec, all: () => Array<{ sandbox: string; specs: ForwardSpec[] }>): void {
    if (!validPort(spec.port)) throw new GatewayError('bad_request', `${spec.port} is not a port (1-65535)`);
    if (!validPort(spec.hostPort) || spec.hostPort < MIN_HOST_PORT) {
      throw new GatewayError('bad_request', `host port ${spec.hostPort}: forwards use host ports ${MIN_HOST_PORT}-65535 (a lower one belongs to a system service)`);
    }
    for (const { sandbox: other, specs } of all()) {
      const taken = specs.find((s) => s.hostPort === spec.hostPort && !(other === sandbox && s.port === spec.port));
      if (taken) throw new GatewayError('port_in_use', `host port ${spec.hostPort} is forwarded to sandbox ${other} port ${taken.port} already: pick another host port`);
    }
  }

  /** Adds (or keeps) a forward; opens it now when the sandbox runs. */
  async add(sandbox: string, spec: ForwardSpec): Promise<ForwardView> {
    const specs = this.saved(sandbox).filter((s) => s.port !== spec.port);
    const running = this.running.get(sandbox);
    if (running) {
      const previous = running.open.get(spec.port);
      if (previous && previous.spec.hostPort === spec.hostPort && previous.server) return this.view(sandbox, previous);
      // The new host port opens first: if it cannot, the forward in force stays as it was.
      const opened = await this.openOne(sandbox, running, spec);
      if (opened.problem !== undefined) throw new GatewayError('port_in_use', opened.problem);
      if (previous) this.closeOne(previous);
      running.open.set(spec.port, opened);
    }
    this.save(sandbox, [...specs, spec].sort((a, b) => a.port - b.port));
    return this.viewOf(sandbox, spec);
  }

  /** Removes a forward (closing its listener and relayed connections). */
  remove(sandbox: string, port: number): ForwardSpec | undefined {
    const specs = this.saved(sandbox);
    const spec = specs.find((s) => s.port === port);
    if (!spec) return undefined;
    this.save(sandbox, specs.filter((s) => s.port !== port));
    const running = this.running.get(sandbox);
    const open = running?.open.get(port);
    if (open) {
      this.closeOne(open);
      running!.open.delete(port);
    }
    return spec;
  }

  list(sandbox: string): ForwardView[] {
    return this.saved(sandbox).map((spec) => this.viewOf(sandbox, spec));
  }

  /** The sandbox started: its kept forwards open (one whose host port is taken is reported, not fatal). */
  async started(sandbox: string, initPid: number): Promise<string[]> {
    this.stopped(sandbox);
    const running: SandboxForwards = { initPid, open: new Map() };
    this.running.set(sandbox, running);
    const problems: string[] = [];
    for (const spec of this.saved(sandbox)) {
      const opened = await this.openOne(sandbox, running, spec);
      running.open.set(spec.port, opened);
      if (opened.problem !== undefined) problems.push(opened.problem);
    }
    return problems;
  }

  /** The sandbox stopped: its listeners close, its relayed connections end. */
  stopped(sandbox: string): void {
    const running = this.running.get(sandbox);
    if (!running) return;
    this.running.delete(sandbox);
    for (const open of running.open.values()) this.closeOne(open);
    running.connector?.close();
  }

  private viewOf(sandbox: string, spec: ForwardSpec): ForwardView {
    const open = this.running.get(sandbox)?.open.get(spec.port);
    if (open && open.spec.hostPort === spec.hostPort) return this.view(sandbox, open);
    return { sandbox, ...spec, active: false };
  }

  private view(sandbox: string, open: Open): ForwardView {
    return { sandbox, ...open.spec, active: open.server !== undefined, ...(open.problem !== undefined ? { problem: open.problem } : {}) };
  }

  private async openOne(sandbox: string, running: SandboxForwards, spec: ForwardSpec): Promise<Open> {
    const open: Open = { spec, sockets: new Set() };
    const server = net.createServer({ pauseOnConnect: true }, (client) => this.relay(sandbox, running, open, client));
    server.maxConnections = MAX_CONNECTIONS;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: spec.hostPort, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (error) => this.log(`forward ${sandbox} ${spec.port} -> 127.0.0.1:${spec.hostPort}: ${error.message}`));
      open.server = server;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      open.problem = code === 'EADDRINUSE'
        ? `127.0.0.1:${spec.hostPort} is in use on the host: forward to another host port (\`warden forward ${sandbox} ${spec.port} HOSTPORT\`)`
        : `cannot listen on 127.0.0.1:${spec.hostPort}: ${(error as Error).message}`;
    }
    return open;
  }

  private relay(sandbox: string, running: SandboxForwards, open: Open, client: net.Socket): void {
    client.on('error', () => undefined);
    open.sockets.add(client);
    client.once('close', () => open.sockets.delete(client));
    if (this.running.get(sandbox) !== running) {
      client.destroy();
      return;
    }
    running.connector ??= openSandboxConnector(running.initPid, process.getuid?.() === 0);
    running.connector.connect(open.spec.port).then((inside) => {
      inside.on('error', () => undefined);
      if (client.destroyed || !open.sockets.has(client)) {
        inside.destroy();
        return;
      }
      open.sockets.add(inside);
      inside.once('close', () => {
        open.sockets.delete(inside);
        client.destroy();
      });
      client.once('close', () => inside.destroy());
      client.pipe(inside);
      inside.pipe(client);
      client.resume();
    }, (error: Error) => {
      // Nothing listens inside yet (the agent is starting), or the sandbox is going: the client
      // sees its connection closed, as with a closed port.
      if (!/ECONNREFUSED/.test(error.message)) this.log(`forward ${sandbox} ${open.spec.port}: ${error.message}`);
      if (/ended|closed/.test(error.message) && this.running.get(sandbox) === running) running.connector = undefined;
      client.destroy();
    });
  }

  private closeOne(open: Open): void {
    open.server?.close();
    open.server = undefined;
    for (const socket of open.sockets) socket.destroy();
    open.sockets.clear();
  }
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Where a sandbox's forwards are kept. */
export function forwardsFile(dir: string): string {
  return path.join(dir, 'forwards.json');
}
