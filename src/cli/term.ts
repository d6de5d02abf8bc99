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

export async function termCommand(): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError('usage', 'warden term needs a terminal (for scripts: warden approvals list|approve|deny|watch)', 2);
  const [{ render }, { TermApp }] = await Promise.all([import('ink'), import('./term-app.js')]);
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
