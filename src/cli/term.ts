// `warden term`: the operator's full-screen view (term-app.ts), fed by the gateway: the lists once,
// then everything it pushes on an approvals.watch connection (approvals, every decision, every
// audit record), drawn through OverdrawScreen (term-screen.ts) so that no frame blanks the screen.
import { createElement as h } from 'react';
import { CliError } from './output.js';
import { gatewayCall } from './gateway-commands.js';
import type { TermClient, TermEvent } from './term-app.js';
import type { ApprovalView } from '../gateway/index.js';
import { wardenHome } from '../store/index.js';
import { lineReader } from './lines.js';

export function gatewayTermClient(home = wardenHome()): TermClient {
  return {
    sandboxes: async () => (await gatewayCall('sandbox.list', {})).map((s) => ({ name: s.name, state: s.state, approvalMode: s.approvalMode, policyRev: s.policyRev })),
    approvals: async () => (await gatewayCall('approvals.list', {})) as unknown as ApprovalView[],
    policyHistory: (sandbox) => gatewayCall('policy.history', { name: sandbox }),
    auditTail: (limit) => gatewayCall('audit.tail', { limit }),
    approve: (id, always, version) => gatewayCall('approvals.approve', { id, always, version }),
    deny: (id, version) => gatewayCall('approvals.deny', { id, version }),
    subscribe(listener) {
      let closed = false;
      let stop = () => { closed = true; };
      void (async () => {
        const { openWatch } = await import('../gateway/index.js');
        const { socket, rest } = await openWatch(home, { decisions: true, audit: true });
        if (closed) {
          socket.destroy();
          return;
        }
        stop = () => {
          closed = true;
          socket.destroy();
        };
        const onData = lineReader((line) => listener(JSON.parse(line) as TermEvent));
        if (rest.length > 0) onData(rest);
        socket.on('data', onData);
        socket.on('close', () => {
          if (!closed) listener({ event: 'disconnected', reason: 'the gateway closed the connection' });
        });
        socket.resume();
      })().catch((error: unknown) => {
        if (!closed) listener({ event: 'disconnected', reason: (error as Error).message });
      });
      return () => stop();
    },
  };
}

// ink decides once, when it is loaded, that a CI environment (CI, CONTINUOUS_INTEGRATION, CI_*) has
// no live screen and then draws only the last frame, on exit: the operator would see nothing while
// requests wait. warden term has just checked that it owns a terminal, so those markers are hidden
// from ink while it loads, and put back.
async function withoutCiMarkers<T>(load: () => Promise<T>): Promise<T> {
  const markers = Object.keys(process.env).filter((key) => key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_'));
  const saved = markers.map((key) => [key, process.env[key]] as const);
  for (const key of markers) delete process.env[key];
  try {
    return await load();
  } finally {
    for (const [key, value] of saved) process.env[key] = value;
  }
}

export async function termCommand(): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError('usage', 'warden term needs a terminal (for scripts: warden approvals list|approve|deny|watch)', 2);
  const [{ render }, { TermApp }, { OverdrawScreen }] = await withoutCiMarkers(() => Promise.all([import('ink'), import('./term-app.js'), import('./term-screen.js')]));
  // The alternate screen: the terminal's scrollback is left as it was, and restored on exit. The
  // cursor is hidden meanwhile (frames are drawn by moving it).
  process.stdout.write('\x1b[?1049h\x1b[?25l\x1b[H');
  try {
    const screen = new OverdrawScreen(process.stdout) as unknown as NodeJS.WriteStream;
    const app = render(h(TermApp, { client: gatewayTermClient() }), { exitOnCtrlC: true, stdout: screen, patchConsole: false });
    await app.waitUntilExit();
  } finally {
    process.stdout.write('\x1b[?25h\x1b[?1049l');
  }
  return 0;
}
