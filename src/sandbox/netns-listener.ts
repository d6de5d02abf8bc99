// Runs inside a sandbox's network namespace (started through nsenter by netns.ts, outside
// the sandbox's PID, mount and user namespaces): opens the listening socket the egress proxy
// serves on, hands it to the parent warden process over the IPC channel, and exits. The
// socket stays open in warden; no process of the sandbox can reach or replace this one.
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || typeof process.send !== 'function') {
  process.stderr.write('netns-listener: usage: netns-listener PORT (with an IPC channel)\n');
  process.exit(2);
}
const server = net.createServer();
server.once('error', (error) => {
  process.stderr.write(`netns-listener: ${error.message}\n`);
  process.exit(1);
});
server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
  // Exits only once the parent says it has the socket: exiting right after sending could let
  // the parent see the exit before the message (seen under load), and take it for a failure.
  process.once('message', () => process.exit(0));
  process.send!('listening', server, { keepOpen: false }, (error) => {
    if (error) process.exit(1);
  });
  setTimeout(() => process.exit(1), 10_000).unref();
});
