// `warden term`: the operator's full-screen view (term-app.ts), fed by the gateway: the lists once,
// then everything it pushes on an approvals.watch connection (approvals and every decision).
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
    approve: (id, always, version) => gatewayCall('approvals.approve', { id, always, version }),
    deny: (id, version) => gatewayCall('approvals.deny', { id, version }),
    subscribe(listener) {
      let closed = false;
      let stop = () => { closed = true; };
      void (async () => {
        const { openWatch } = await import('../gateway/index.js');
        const { socket, rest } = await openWatch(home, { decisions: true });
        if (closed) {
          socket.destroy();
          return;
        }
        stop = () => socket.destroy();
        const onData = lineReader((line) => listener(JSON.parse(line) as TermEvent));
        if (rest.length > 0) onData(rest);
        socket.on('data', onData);
        socket.resume();
      })();
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
  const [{ render }, { TermApp }] = await withoutCiMarkers(() => Promise.all([import('ink'), import('./term-app.js')]));
  // The alternate screen: the terminal's scrollback is left as it was, and restored on exit.
  process.stdout.write('\x1b[?1049h\x1b[H');
  try {
    const app = render(h(TermApp, { client: gatewayTermClient() }), { exitOnCtrlC: true });
    await app.waitUntilExit();
  } finally {
    process.stdout.write('\x1b[?1049l');
  }
  return 0;
}
