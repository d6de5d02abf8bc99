// Runs inside a sandbox's network namespace (started through nsenter by netns.ts, outside
// the sandbox's PID, mount and user namespaces): opens the listening sockets warden serves on
// (the egress proxy's, inference.local's), hands them to the parent warden process over the IPC
// channel, in the order given, and exits. The sockets stay open in warden; no process of the
// sandbox can reach or replace them.
import net from 'node:net';

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((port) => !Number.isInteger(port) || port <= 0 || port > 65535) || typeof process.send !== 'function') {
  process.stderr.write('netns-listener: usage: netns-listener PORT... (with an IPC channel)\n');
  process.exit(2);
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => {
      process.stderr.write(`netns-listener: port ${port}: ${error.message}\n`);
      process.exit(1);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

async function handOver(): Promise<void> {
  const servers: net.Server[] = [];
  for (const port of ports) servers.push(await listen(port));
  // Exits only once the parent says it has every socket: exiting right after sending could let
  // the parent see the exit before the messages (seen under load), and take it for a failure.
  process.once('message', () => process.exit(0));
  for (const server of servers) {
    await new Promise<void>((resolve) => process.send!('listening', server, { keepOpen: false }, (error) => {
      if (error) process.exit(1);
      resolve();
    }));
  }
  setTimeout(() => process.exit(1), 10_000).unref();
}
void handOver();
