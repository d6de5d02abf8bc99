// Runs inside a sandbox's network namespace (started through nsenter by netns.ts, outside
// the sandbox's PID, mount and user namespaces): opens the listening sockets warden serves on
// (the egress proxy's, inference.local's; and PORT/udp ones, the name-lookup trap's), hands them
// to the parent warden process over the IPC channel, in the order given, and exits. The sockets
// stay open in warden; no process of the sandbox can reach or replace them.
import dgram from 'node:dgram';
import net from 'node:net';

const specs = process.argv.slice(2).map((arg) => ({ port: Number(arg.replace(/\/udp$/, '')), udp: arg.endsWith('/udp') }));
if (specs.length === 0 || specs.some(({ port }) => !Number.isInteger(port) || port <= 0 || port > 65535) || typeof process.send !== 'function') {
  process.stderr.write('netns-listener: usage: netns-listener PORT[/udp]... (with an IPC channel)\n');
  process.exit(2);
}

function bindDatagram(port: number): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', (error) => {
      process.stderr.write(`netns-listener: port ${port}/udp: ${error.message}\n`);
      process.exit(1);
    });
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(socket));
  });
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
  const servers: Array<net.Server | dgram.Socket> = [];
  for (const { port, udp } of specs) servers.push(udp ? await bindDatagram(port) : await listen(port));
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
