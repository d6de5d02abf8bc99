// `warden term`'s screen (ink): sandboxes, pending approvals, the live stream of decisions.
// Everything it shows is pushed by the gateway (TermClient.subscribe); nothing here polls. Events
// are drawn at most every FLUSH_MS, so a burst of decisions costs one frame, not one per event.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { createElement as h, useCallback, useEffect, useRef, useState, type ReactElement } from 'react';
import { terminalSafe, type DecisionRecord } from '../audit/index.js';
import type { ApprovalView } from '../gateway/index.js';
import { missingOf } from './approvals.js';

const FLUSH_MS = 100;
const MAX_EVENTS = 500;

export interface TermSandbox {
  name: string;
  state: string;
  approvalMode?: string | undefined;
  policyRev: number;
}

export type TermEvent =
  | { event: 'pending' | 'hit' | 'gone' | 'decided'; approval: ApprovalView }
  | { event: 'decision'; record: DecisionRecord };

/** What the screen needs from the gateway (the real one in term.ts; a fake in the tests). */
export interface TermClient {
  sandboxes(): Promise<TermSandbox[]>;
  approvals(): Promise<ApprovalView[]>;
  approve(id: number, always: boolean, version: number): Promise<{ rev?: number | undefined; released: number }>;
  deny(id: number, version: number): Promise<{ released: number }>;
  /** Pushed events until the returned function is called. */
  subscribe(listener: (event: TermEvent) => void): () => void;
}

type Filter = 'all' | 'allow' | 'deny' | 'ask';
const FILTERS: readonly Filter[] = ['all', 'deny', 'ask', 'allow'];

const KEYS: Array<[string, string]> = [
  ['up/down, j/k', 'select a pending approval'],
  ['a', 'approve once (this request only)'],
  ['A', 'approve always: shows the rule it adds, y to write it'],
  ['d', 'deny (the request gets 403 approval_denied)'],
  ['Y / X', 'approve once / deny every approval shown'],
  ['f', 'filter events by verdict (all, deny, ask, allow)'],
  ['s', 'filter by sandbox (cycles)'],
  ['p', 'pause / resume the event stream'],
  ['r', 'reload sandboxes and approvals'],
  ['?', 'this help (any key closes it)'],
  ['q', 'quit'],
];

/** The rule an approve-always writes, as lines of a diff. */
export function draftDiff(approval: ApprovalView): string[] {
  return approval.changes.map((raw) => {
    const change = raw as { op: string; host: string; port: number; binaries?: string[]; allowedIps?: string[]; protocol?: string; access?: string; method?: string; path?: string; policyName?: string };
    if (change.op === 'add-rule') return `+ rule ${change.method ?? ''} ${change.path ?? ''} on ${change.host}:${change.port}${change.policyName ? ` (network_policies.${change.policyName})` : ''}`;
    const extra = [
      change.allowedIps ? `allowed_ips ${change.allowedIps.join(', ')}` : '',
      change.protocol ? `protocol ${change.protocol}, access ${change.access ?? ''}` : '',
    ].filter((x) => x !== '');
    return `+ endpoint ${change.host}:${change.port} for ${(change.binaries ?? []).join(', ')}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
  });
}

function describe(a: ApprovalView): string {
  return `${a.binary} -> ${a.host}:${a.port}${a.method !== undefined ? ` ${a.method} ${a.path ?? ''}` : ''}`;
}

function eventLine(r: DecisionRecord): string {
  const where = r.destination ? `${r.destination.host}:${r.destination.port}${r.method ? ` ${r.method} ${r.path ?? ''}` : ''}` : (r.target ?? r.action);
  return `${r.ts.slice(11, 19)} ${r.sandbox} ${r.verdict.toUpperCase().padEnd(5)} ${r.binary.path} -> ${where} ${r.verdict === 'allow' ? '' : `[${r.code}]`}`;
}

/**
 * Fits `text` in `width`, escaped first: binaries, hosts, paths and quarantined text come from the
 * sandbox, and a file named with escape sequences must not control the operator's terminal.
 */
const clip = (raw: string, width: number) => {
  const text = terminalSafe(raw);
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
};

export function TermApp({ client, rows: fixedRows, columns: fixedColumns }: { client: TermClient; rows?: number; columns?: number }): ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ rows: fixedRows ?? stdout.rows ?? 24, columns: fixedColumns ?? stdout.columns ?? 80 });
  const [sandboxes, setSandboxes] = useState<TermSandbox[]>([]);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [events, setEvents] = useState<DecisionRecord[]>([]);
  const [selected, setSelected] = useState(0);
  const [help, setHelp] = useState(false);
  const [confirm, setConfirm] = useState<ApprovalView | undefined>(undefined);
  const [message, setMessage] = useState('');
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState<Filter>('all');
  const [sandboxFilter, setSandboxFilter] = useState<string | undefined>(undefined);
  const pending = useRef<DecisionRecord[]>([]);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  const reload = useCallback(() => {
    client.sandboxes().then(setSandboxes, (e: unknown) => setMessage(`sandboxes: ${(e as Error).message}`));
    client.approvals().then(setApprovals, (e: unknown) => setMessage(`approvals: ${(e as Error).message}`));
  }, [client]);

  useEffect(() => {
    if (fixedRows !== undefined) return undefined;
    const onResize = () => setSize({ rows: stdout.rows ?? 24, columns: stdout.columns ?? 80 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, fixedRows]);

  useEffect(() => {
    reload();
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (pausedRef.current || pending.current.length === 0) return;
      const batch = pending.current;
      pending.current = [];
      setEvents((old) => [...old, ...batch].slice(-MAX_EVENTS));
    };
    const unsubscribe = client.subscribe((event) => {
      if (event.event === 'decision') {
        pending.current.push(event.record);
        if (pending.current.length > MAX_EVENTS) pending.current.splice(0, pending.current.length - MAX_EVENTS);
        timer ??= setTimeout(flush, FLUSH_MS);
        return;
      }
      const approval = event.approval;
      setApprovals((old) => {
        const rest = old.filter((a) => a.id !== approval.id);
        return approval.state === 'pending' ? [approval, ...rest].sort((a, b) => a.id - b.id) : rest;
      });
      // A new sandbox, or a new policy revision (approve always): the sandbox list changed.
      if (event.event === 'decided' && approval.decision === 'always') reload();
      if (event.event === 'pending') {
        setSandboxes((old) => (old.some((s) => s.name === approval.sandbox) ? old : (reload(), old)));
      }
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [client, reload]);

  const shown = approvals.filter((a) => sandboxFilter === undefined || a.sandbox === sandboxFilter);
  const current = shown[Math.min(selected, Math.max(0, shown.length - 1))];

  const act = (what: Promise<string>) => what.then(setMessage, (e: unknown) => setMessage(`refused: ${(e as Error).message}`));
  const approveOnce = (a: ApprovalView) => act(client.approve(a.id, false, a.version).then((r) => `approved #${a.id} once; ${r.released} request(s) released`));
  const deny = (a: ApprovalView) => act(client.deny(a.id, a.version).then((r) => `denied #${a.id}; ${r.released} request(s) answered 403`));

  // The handler ink calls may be one render old (it is re-attached after each commit): it reads
  // what is on screen now from this ref, so a key pressed right after an update acts on what is shown.
  const screen = useRef({ help, confirm, shown, current, sandboxes });
  screen.current = { help, confirm, shown, current, sandboxes };

  useInput((input, key) => {
    const { help, confirm, shown, current, sandboxes } = screen.current;
    if (help) {
      setHelp(false);
      return;
    }
    if (confirm) {
      if (input === 'y') act(client.approve(confirm.id, true, confirm.version).then((r) => `approved #${confirm.id} always: policy rev ${r.rev ?? '?'}; ${r.released} request(s) released`));
      else setMessage('approve always cancelled');
      setConfirm(undefined);
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) exit();
    else if (input === '?') setHelp(true);
    else if (key.upArrow || input === 'k') setSelected((n) => Math.max(0, n - 1));
    else if (key.downArrow || input === 'j') setSelected((n) => Math.min(Math.max(0, shown.length - 1), n + 1));
    else if (input === 'a' && current) approveOnce(current);
    else if (input === 'A' && current?.content !== undefined) setMessage(`#${current.id} is a quarantined response: it adds no rule, so approve it once (a) or deny it (d)`);
    else if (input === 'A' && current) setConfirm(current);
    else if (input === 'd' && current) deny(current);
    else if (input === 'Y') shown.forEach(approveOnce);
    else if (input === 'X') shown.forEach(deny);
    else if (input === 'p') setPaused((p) => !p);
    else if (input === 'f') setFilter((f) => FILTERS[(FILTERS.indexOf(f) + 1) % FILTERS.length]!);
    else if (input === 's') {
      const names = [undefined, ...sandboxes.map((s) => s.name)];
      setSandboxFilter((f) => names[(names.indexOf(f) + 1) % names.length]);
    } else if (input === 'r') reload();
  });

  const width = Math.max(40, size.columns);
  const height = Math.max(12, size.rows);
  const title = h(Text, { bold: true }, clip(`warden term  ${sandboxes.length} sandbox(es), ${approvals.length} pending${sandboxFilter ? `  [sandbox ${sandboxFilter}]` : ''}${paused ? '  [paused]' : ''}  ? keys`, width));
  const status = h(Text, { dimColor: true }, clip(message || 'a approve  A always  d deny  ? keys  q quit', width));

  if (help) {
    return h(Box, { flexDirection: 'column', width, height }, title, h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 },
      h(Text, { bold: true }, 'keys'), ...KEYS.map(([k, what]) => h(Text, { key: k }, clip(`${k.padEnd(14)} ${what}`, width - 4)))), status);
  }
  if (confirm) {
    return h(Box, { flexDirection: 'column', width, height }, title, h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 },
      h(Text, { bold: true }, clip(`approve #${confirm.id} always: ${describe(confirm)} in ${confirm.sandbox}`, width - 4)),
      h(Text, {}, 'the policy gets a new revision with:'),
      ...draftDiff(confirm).map((line, i) => h(Text, { key: String(i), color: 'green' }, clip(line, width - 4))),
      h(Text, {}, 'y: write it and release the request   any other key: cancel')), status);
  }

  const sideWidth = Math.min(28, Math.floor(width / 3));
  const topHeight = Math.max(5, Math.floor((height - 4) / 2));
  const listRows = topHeight - 2;
  const first = Math.max(0, Math.min(selected, shown.length - 1) - listRows + 2);
  const approvalLines = shown.length === 0
    ? [h(Text, { key: 'none', dimColor: true }, 'nothing waiting for an approval')]
    : shown.slice(first, first + Math.max(1, Math.floor(listRows / 2))).flatMap((a) => {
      const on = a === current;
      return [
        h(Text, { key: `${a.id}`, inverse: on, wrap: 'truncate' }, clip(`#${a.id} ${a.sandbox} ${describe(a)}`, width - sideWidth - 4)),
        h(Text, { key: `${a.id}-d`, dimColor: !on, wrap: 'truncate' }, clip(`   ${a.content !== undefined ? missingOf(a) : a.code}${a.addresses ? ` (resolves to ${a.addresses.join(', ')})` : ''} · ${a.hits} hit(s) · ${a.waiting} waiting${a.gone > 0 ? ` · ${a.gone} gone` : ''}${a.ancestors.length > 0 ? ` · via ${a.ancestors.join(' < ')}` : ''}`, width - sideWidth - 4)),
      ];
    });
  const sandboxLines = sandboxes.length === 0
    ? [h(Text, { key: 'none', dimColor: true }, 'no sandboxes')]
    : sandboxes.slice(0, listRows).map((s) => h(Text, { key: s.name, wrap: 'truncate' }, clip(`${s.name} ${s.state}${s.approvalMode === 'ask' ? ' ask' : ''} r${s.policyRev}`, sideWidth - 4)));
  const eventRows = Math.max(2, height - topHeight - 4);
  const visible = events.filter((r) => (filter === 'all' || r.verdict === filter) && (sandboxFilter === undefined || r.sandbox === sandboxFilter)).slice(-(eventRows - 1));
  const eventLines = visible.length === 0
    ? [h(Text, { key: 'none', dimColor: true }, `no ${filter === 'all' ? '' : `${filter} `}events yet`)]
    : visible.map((r, i) => h(Text, { key: `${i}`, color: r.verdict === 'allow' ? 'green' : r.verdict === 'deny' ? 'red' : 'yellow', wrap: 'truncate' }, clip(eventLine(r), width - 4)));

  return h(Box, { flexDirection: 'column', width, height },
    title,
    h(Box, { flexDirection: 'row', height: topHeight },
      h(Box, { flexDirection: 'column', width: sideWidth, borderStyle: 'single', paddingX: 1 }, h(Text, { bold: true }, 'sandboxes'), ...sandboxLines),
      h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 }, h(Text, { bold: true }, `approvals (${shown.length})`), ...approvalLines)),
    h(Box, { flexDirection: 'column', height: eventRows + 2, borderStyle: 'single', paddingX: 1 },
      h(Text, { bold: true }, `events${filter === 'all' ? '' : ` (${filter})`}${paused ? ' paused' : ''}`), ...eventLines),
    status);
}
