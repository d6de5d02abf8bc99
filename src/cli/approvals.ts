// `warden approvals list|approve|deny|watch`: the operator's side of approvals (docs/approvals.md).
// Requests a sandbox in ask mode holds wait in the gateway until one of these answers them.
import type { Command } from 'commander';
import { CliError, printJsonResult, printLine } from './output.js';
import { gatewayCall, print, toCliError } from './gateway-commands.js';
import type { ApprovalEvent, ApprovalView } from '../gateway/index.js';
import { wardenHome } from '../store/index.js';
import { lineReader } from './lines.js';
import { terminalSafe } from '../audit/index.js';

type SetExit = (code: number) => void;
type Mode = { json: boolean };

export function registerApprovalCommands(program: Command, setExit: SetExit, mode: Mode): void {
  const run = (json: boolean | undefined, fn: () => Promise<number>) => async () => {
    mode.json = Boolean(json);
    setExit(await fn().catch((error: unknown) => { throw toCliError(error); }));
  };
  const approvals = program.command('approvals').summary('answer the requests that sandboxes in ask mode hold for an operator')
    .description('A sandbox created with --approval-mode ask holds what its policy denies until an operator approves or denies it.\n' +
      'Identical requests (sandbox, host, port, binary[, method, path]) are one pending draft. See docs/approvals.md.');
  approvals.command('list').alias('ls').summary('pending requests and agents\' proposals: ID SANDBOX BINARY -> HOST:PORT [METHOD PATH] HITS WAITING')
    .option('--sandbox <name>', 'only this sandbox')
    .option('--all', 'decided ones too (approved, denied, closed)')
    .option('--json', 'print the list as JSON')
    .action((opts: { sandbox?: string; all?: boolean; json?: boolean }) => run(opts.json, () => list(opts))());
  approvals.command('approve').summary('approve a pending request: once (this request only), or --always (adds the rule)')
    .argument('<ID>')
    .option('--always', 'write the narrowest rule that admits it as a new policy revision (live before the request is released)')
    .option('--version <n>', 'refuse if the draft changed since version N (what `list --json` showed)')
    .option('--json', 'print the result as JSON')
    .action((id: string, opts: { always?: boolean; version?: string; json?: boolean }) => run(opts.json, () => approve(id, opts))());
  approvals.command('deny').summary('deny a pending request: held clients get 403 approval_denied')
    .argument('<ID>')
    .option('--version <n>', 'refuse if the draft changed since version N')
    .option('--json', 'print the result as JSON')
    .action((id: string, opts: { version?: string; json?: boolean }) => run(opts.json, () => deny(id, opts))());
  approvals.command('watch').summary('print one line per request held for approval, as it happens (for scripts and chat bridges)')
    .option('--sandbox <name>', 'only this sandbox')
    .option('--json', 'print each event as a JSON line')
    .action((opts: { sandbox?: string; json?: boolean }) => run(opts.json, () => watch(opts))());
}

function number(what: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw new CliError('usage', `${what} must be a positive whole number, not ${JSON.stringify(text)}`, 2);
  return n;
}

/**
 * `/usr/bin/curl -> 127.0.0.1:8080 GET /x`, escaped for a terminal: the binary's path is the
 * sandbox's to choose, and a file named with escape sequences must not control the operator's screen.
 */
export function describeApproval(a: Pick<ApprovalView, 'binary' | 'host' | 'port' | 'method' | 'path'>): string {
  return terminalSafe(`${a.binary} -> ${a.host}:${a.port}${a.method !== undefined ? ` ${a.method} ${a.path ?? ''}` : ''}`);
}

/** What is missing: the code, the addresses a rule must name, or what the scanner found in a held response. */
export function missingOf(a: Pick<ApprovalView, 'code' | 'addresses' | 'content' | 'proposal'>): string {
  // The reason is the agent's own text (checked for control characters when it was filed): escaped all the same.
  if (a.proposal !== undefined) return `proposed by the agent (${terminalSafe(a.proposal.binary)}): ${terminalSafe(a.proposal.reason)}`;
  if (a.content !== undefined) {
    const excerpt = a.content.excerpts[0];
    // The excerpt is the page's own text: escaped before it reaches a terminal.
    return `quarantined response, score ${a.content.score} (${a.content.categories.join(', ') || 'directive'})${excerpt !== undefined ? `: "${terminalSafe(excerpt)}"` : ''}; approve once or deny`;
  }
  return a.addresses ? `${a.code}, needs allowed_ips ${a.addresses.join(', ')}` : a.code;
}

async function list(opts: { sandbox?: string; all?: boolean; json?: boolean }): Promise<number> {
  const rows = await gatewayCall('approvals.list', { ...(opts.sandbox !== undefined ? { sandbox: opts.sandbox } : {}), ...(opts.all ? { all: true } : {}) });
  if (opts.json) {
    printJsonResult(rows);
    return 0;
  }
  if (rows.length === 0) {
    printLine(2, opts.all ? 'no approvals yet' : 'nothing is waiting for an approval');
    return 0;
  }
  const table = [['ID', 'SANDBOX', 'STATE', 'HITS', 'WAITING', 'LAST', 'REQUEST', 'MISSING'],
    ...rows.map((a) => [String(a.id), a.sandbox, a.state === 'pending' ? 'pending' : `${a.decision ?? a.state}`, String(a.hits),
      a.waiting > 0 ? String(a.waiting) : a.gone > 0 ? '0 (client gone)' : '0', a.lastSeen.slice(11, 19), describeApproval(a), missingOf(a)])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) printLine(1, row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '));
  return 0;
}

async function approve(idText: string, opts: { always?: boolean; version?: string; json?: boolean }): Promise<number> {
  const id = number('ID', idText)!;
  const version = number('--version', opts.version);
  const result = await gatewayCall('approvals.approve', { id, ...(opts.always ? { always: true } : {}), ...(version !== undefined ? { version } : {}) });
  print(Boolean(opts.json), result, `approved #${id} ${opts.always ? `always: policy rev ${result.rev} of ${result.sandbox} admits it` : 'once'}` +
    ` (${describeApproval(result)}); ${result.released} held request(s) released`);
  return 0;
}

async function deny(idText: string, opts: { version?: string; json?: boolean }): Promise<number> {
  const id = number('ID', idText)!;
  const version = number('--version', opts.version);
  const result = await gatewayCall('approvals.deny', { id, ...(version !== undefined ? { version } : {}) });
  print(Boolean(opts.json), result, `denied #${id} (${describeApproval(result)}); ${result.released} held request(s) answered 403 approval_denied`);
  return 0;
}

/** One line per event, pushed by the gateway; ends when the gateway stops or on Ctrl-C. */
async function watch(opts: { sandbox?: string; json?: boolean }): Promise<number> {
  const { openWatch } = await import('../gateway/index.js');
  const { socket, rest, timeoutMs } = await openWatch(wardenHome(), opts.sandbox !== undefined ? { sandbox: opts.sandbox } : {}, { progress: (m) => printLine(2, m) });
  // Subscribed from here on: a script can start the requests it means to see.
  if (opts.json) printLine(1, JSON.stringify({ event: 'ready', timeoutMs }));
  else printLine(2, `watching approvals (held requests wait ${Math.round(timeoutMs / 1000)} s for an answer); Ctrl-C to stop`);
  const onData = lineReader((line) => {
    if (opts.json) {
      printLine(1, line);
      return;
    }
    const text = eventLine(JSON.parse(line) as ApprovalEvent);
    if (text !== undefined) printLine(1, text);
  });
  if (rest.length > 0) onData(rest);
  socket.on('data', onData);
  socket.resume();
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    const stop = () => socket.destroy();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

function eventLine(event: ApprovalEvent): string | undefined {
  const a = event.approval;
  switch (event.event) {
    case 'pending':
    case 'hit':
      return a.proposal !== undefined
        ? `#${a.id} ${a.sandbox} ${describeApproval(a)} ${missingOf(a)}`
        : `#${a.id} ${a.sandbox} ${describeApproval(a)} ${a.content !== undefined ? missingOf(a) : a.code} hits=${a.hits} waiting=${a.waiting}`;
    case 'decided':
    case 'gone':
      // Human output is one line per held request; --json has every event.
      return undefined;
  }
}
