// Runs inside a sandbox's network namespace (started through nsenter or netns-enter by netns.ts,
// outside the sandbox's PID, mount and user namespaces) for as long as a port of the sandbox is
// forwarded to the host: for each {id, port} the parent sends, it connects to 127.0.0.1:port in
// the sandbox's namespace and hands the connected socket to the parent over the IPC channel.
//
// Security invariant: it only ever dials 127.0.0.1 in the sandbox's namespace, at ports the parent
// names; it reads nothing from the connections (the parent relays them), and accepts none: nothing
// in the sandbox can reach it, so forwarding runs from the host into the sandbox only.
import net from 'node:net';

if (typeof process.send !== 'function') {
  process.stderr.write('netns-connector: needs an IPC channel\n');
  process.exit(2);
}
const TIMEOUT_MS = 10_000;

process.on('message', (message: unknown) => {
  const request = message as { id?: unknown; port?: unknown };
  const id = request?.id;
  const port = request?.port;
  if (typeof id !== 'number' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return;
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
  socket.once('connect', () => {
    socket.setTimeout(0);
    process.send!({ id, ok: true }, socket, { keepOpen: false }, () => socket.destroy());
  });
  socket.once('error', (error) => {
    process.send!({ id, ok: false, error: (error as NodeJS.ErrnoException).code ?? error.message });
  });
});
// The parent went away (the forward was closed, the gateway stopped): nothing to do any more.
process.on('disconnect', () => process.exit(0));
