// `warden forward NAME PORT [HOSTPORT]` and `sandbox create --forward`: a server inside a sandbox
// (its own network namespace) reached from the host's 127.0.0.1, and only that way round.
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { newHome, resultOf, SKIP_NO_BWRAP, waitFor, type Home } from './helpers.js';

const SERVER = "require('http').createServer((q, s) => s.end('inside:' + q.url)).listen(Number(process.argv[1]), '127.0.0.1')";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(port: number, path = '/'): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return response.text();
}

function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      // Accepted, then closed at once when nothing answers inside: as good as refused for a client.
      socket.once('close', () => resolve(false));
      socket.once('data', () => resolve(false));
      socket.end();
    });
    socket.once('error', () => resolve(true));
  });
}

describe('warden forward: host loopback to a port inside a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  let home: Home;
  let hostPort: number;
  before(async () => {
    home = newHome();
    hostPort = await freePort();
  });
  after(async () => home.cleanup());

  test('sandbox create --forward: the sandbox\'s server answers on the host\'s 127.0.0.1 only', async () => {
    const result = await home.run(['sandbox', 'create', 'fw', '--forward', `8080:${hostPort}`, '--json', '--', 'node', '-e', SERVER, '8080']);
    assert.equal(result.status, 0, result.stderr);
    const created = resultOf(result.stdout) as { forwards: Array<{ port: number; hostPort: number; active: boolean }> };
    assert.deepEqual(created.forwards.map((f) => [f.port, f.hostPort, f.active]), [[8080, hostPort, true]]);
    let body = '';
    await waitFor(async () => {
      body = await get(hostPort, '/hello').catch(() => '');
      return body !== '';
    }, 'the server inside to answer through the forward', 100);
    assert.equal(body, 'inside:/hello');
    // Bound to the loopback only: another address of this host does not answer.
    const external = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) assert.equal(await refused(hostPort, external.address), true, `${external.address}:${hostPort} must not answer`);
    // The sandbox cannot use the forward to reach the host: its 127.0.0.1 is its own.
    const inside = await home.run(['exec', 'fw', '--', 'node', '-e',
      `require('net').connect(${hostPort}, '127.0.0.1').on('connect', () => console.log('reached')).on('error', (e) => console.log(e.code))`]);
    assert.equal(inside.stdout.trim(), 'ECONNREFUSED');
  });

  test('warden forward adds, lists and stops; a port nothing listens on inside closes the client\'s connection', async () => {
    const second = await freePort();
    const added = await home.json<{ port: number; hostPort: number; active: boolean }>(['forward', 'fw', '9090', String(second)]);
    assert.deepEqual([added.port, added.hostPort, added.active], [9090, second, true]);
    assert.equal(await refused(second), false, 'the host side listens');
    await assert.rejects(get(second), 'nothing inside: the connection is closed');
    const listed = await home.json<Array<{ port: number; hostPort: number }>>(['forward', 'fw']);
    assert.deepEqual(listed.map((f) => [f.port, f.hostPort]), [[8080, hostPort], [9090, second]]);
    assert.match((await home.run(['forward', 'fw'])).stdout, new RegExp(`127\\.0\\.0\\.1:${second} -> fw:9090  active`));
    await home.json(['forward', 'fw', '9090', '--stop']);
    assert.equal(await refused(second), true);
    const low = await home.run(['forward', 'fw', '9090', '80']);
    assert.equal(low.status, 1);
    assert.match(low.stderr, /host ports 1024-65535/);
    const clash = await home.run(['forward', 'fw', '9090', String(hostPort)]);
    assert.equal(clash.status, 1);
    assert.match(clash.stderr, /forwarded to sandbox fw port 8080 already/);
  });

  test('a stopped sandbox forwards nothing; started again, its forwards open again', async () => {
    await home.json(['sandbox', 'stop', 'fw']);
    assert.equal(await refused(hostPort), true);
    await home.json(['sandbox', 'start', 'fw']);
    let body = '';
    await waitFor(async () => {
      body = await get(hostPort, '/again').catch(() => '');
      return body !== '';
    }, 'the forward to open again', 100);
    assert.equal(body, 'inside:/again');
    const kinds = (await home.run(['logs', 'fw', '--json'])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind);
    assert.ok(kinds.includes('forward.added') && kinds.includes('forward.removed'), kinds.join(' '));
  });
});
