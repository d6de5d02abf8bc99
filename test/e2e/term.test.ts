// `warden term` in a real terminal (tmux, 80x24), driven by keys while a sandboxed curl waits:
// approve once succeeds, deny answers the 403, approve always shows its rule, writes exactly one
// and the next identical request passes without a prompt; the policy pane then shows the new
// revision's diff and the audit pane the approvals, pushed by the gateway. CI=true is set on purpose: ink would draw
// nothing until exit where it believes it runs in CI, and warden term must draw anyway.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newHome, SKIP_NO_BWRAP, waitFor, WARDEN, startLoopbackServer } from './helpers.js';

const HAS_TMUX = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).status === 0;

describe('warden term in a terminal', { skip: SKIP_NO_BWRAP || (HAS_TMUX ? false : 'tmux is not installed') }, () => {
  const home = newHome();
  const socketName = `warden-term-test-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socketName, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-t', 'term').stdout;
  let server: Awaited<ReturnType<typeof startLoopbackServer>>;
  let port = 0;
  before(async () => {
    server = await startLoopbackServer((_req, res) => res.end('hello\n'));
    port = server.port;
  });
  after(async () => {
    tmux('kill-server');
    // kill-server leaves the socket file behind.
    rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, socketName), { force: true });
    await home.cleanup();
    await server.close();
  });

  const curl = (path: string) => home.run(['exec', 'tui', '--', 'curl', '-sS', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`]);
  const showing = (text: string) => waitFor(() => screen().includes(text), () => `${JSON.stringify(text)} on the screen:\n${screen()}`);

  test('approve once, deny, approve always (its rule shown first) with keys', async () => {
    await home.json(['sandbox', 'create', 'tui', '--approval-mode', 'ask']);
    const first = curl('/once');
    await waitFor(async () => (await home.json<unknown[]>(['approvals', 'list'])).length === 1, 'the first request held');
    const started = tmux('new-session', '-d', '-s', 'term', '-x', '80', '-y', '24', `env CI=true WARDEN_HOME='${home.dir}' '${process.execPath}' '${WARDEN}' term`);
    assert.equal(started.status, 0, started.stderr);
    await showing('#1 tui /usr/bin/curl -> 127.0.0.1:');
    assert.ok(screen().split('\n').every((line) => line.length <= 80));
    assert.match(screen().split('\n')[23] ?? '', /q quit/, 'the status line is on the last row');
    tmux('send-keys', '-t', 'term', 'a');
    assert.equal((await first).stdout, 'hello\n\n200');
    await showing('ALLOW /usr/bin/curl');

    const second = curl('/denied');
    await showing('#2 tui');
    tmux('send-keys', '-t', 'term', 'd');
    const denied = await second;
    assert.match(denied.stdout, /"code":"approval_denied"/);
    assert.match(denied.stdout, /\n403$/);

    const third = curl('/always');
    await showing('#3 tui');
    tmux('send-keys', '-t', 'term', 'A');
    await showing(`+ endpoint 127.0.0.1:${port} for /usr/bin/curl (allowed_ips 127.0.0.1)`);
    tmux('send-keys', '-t', 'term', 'y');
    assert.equal((await third).stdout, 'hello\n\n200');
    const { policy } = await home.json<{ policy: { network_policies: Record<string, unknown> } }>(['policy', 'get', 'tui']);
    assert.equal(Object.keys(policy.network_policies).length, 1, 'exactly one rule');
    assert.equal((await curl('/next')).stdout, 'hello\n\n200');
    assert.deepEqual(await home.json<unknown[]>(['approvals', 'list']), [], 'no prompt for the next identical request');
    tmux('send-keys', '-t', 'term', '2');
    await showing('diff r1 -> r2:');
    await showing(`+ network_policies.`);
    tmux('send-keys', '-t', 'term', '3');
    await showing('approval.approved tui');
    assert.ok(screen().split('\n').every((line) => line.length <= 80));
    tmux('send-keys', '-t', 'term', 'q');
    await waitFor(() => tmux('has-session', '-t', 'term').status !== 0, 'warden term to quit on q');
  });
});
