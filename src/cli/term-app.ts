// `warden term`'s screen (ink): sandboxes, pending approvals, and one lower pane of three: the live
// stream of decisions, the selected sandbox's policy revisions with their diffs, and the audit
// log's tail. Everything it shows is pushed by the gateway (TermClient.subscribe) or read once when
// something pushed says it changed; nothing here polls. Pushed events are drawn at most every
// FLUSH_MS, so a burst of them costs one frame, not one per event.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { createElement as h, useCallback, useEffect, useRef, useState, type ReactElement } from 'react';
import { type AuditTailRecord, type DecisionRecord, terminalSafe } from '../audit/index.js';
import type { ApprovalView } from '../gateway/index.js';
import { missingOf } from './approvals.js';

const FLUSH_MS = 100;
const MAX_EVENTS = 500;
const MAX_AUDIT = 500;
/** How many audit records are read when the screen opens; the rest arrive pushed. */
export const AUDIT_TAIL = 200;
/** Audit kinds of checkpoint decisions: the events pane shows them, the audit pane can hide them. */
const DECISION_KIND = /\.verdict$/;

export interface TermSandbox {
  name: string;
  state: string;
  approvalMode?: string | undefined;
  policyRev: number;
}

/** One policy revision as the policy pane shows it: its diff to the revision before, as lines. */
export interface TermRevision {
  rev: number;
  createdAt: string;
  author: string;
  reason: string | null;
  diff: string[];
}

export type TermEvent =
  | { event: 'pending' | 'hit' | 'gone' | 'decided'; approval: ApprovalView }
  | { event: 'decision'; record: DecisionRecord }
  | { event: 'audit'; record: AuditTailRecord }
  /** The push stream ended (the gateway stopped, or dropped a reader that fell behind). */
  | { event: 'disconnected'; reason: string };

/** What the screen needs from the gateway (the real one in term.ts; a fake in the tests). */
export interface TermClient {
  sandboxes(): Promise<TermSandbox[]>;
  approvals(): Promise<ApprovalView[]>;
  policyHistory(sandbox: string): Promise<TermRevision[]>;
  auditTail(limit: number): Promise<AuditTailRecord[]>;
  approve(id: number, always: boolean, version: number): Promise<{ rev?: number | undefined; released: number }>;
  deny(id: number, version: number): Promise<{ released: number }>;
  /** Pushed events (approvals, decisions, audit records) until the returned function is called. */
  subscribe(listener: (event: TermEvent) => void): () => void;
}

type Filter = 'all' | 'allow' | 'deny' | 'ask';
const FILTERS: readonly Filter[] = ['all', 'deny', 'ask', 'allow'];
type Pane = 'events' | 'policy' | 'audit';
const PANES: readonly Pane[] = ['events', 'policy', 'audit'];

const KEYS: Array<[string, string]> = [
  ['up/down, j/k', 'select a pending approval'],
  ['a', 'approve once (this request only)'],
  ['A', 'approve always: shows the rule it adds, y to write it'],
  ['d', 'deny (the request gets 403 approval_denied)'],
  ['Y / X', 'approve once / deny every approval shown'],
  ['1 2 3, tab', 'lower pane: events, policy, audit tail'],
  ['s', 'select a sandbox (filters everything; cycles)'],
  ['f', 'events: verdict filter; audit: hide/show decisions'],
  ['/', 'events: filter by binary (text; enter keeps, esc clears)'],
  ['p', 'pause / resume the live panes'],
  ['pgup/pgdn, G', 'scroll the lower pane; G back to live'],
  ['left/right', 'policy: older / newer revision'],
  ['r', 'reload sandboxes, approvals, policy (reconnects)'],
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

const basename = (file: string) => file.slice(file.lastIndexOf('/') + 1) || file;

/**
 * `text` cut to `width` columns, the cut marked with an ellipsis. Control characters are shown
 * escaped first: hosts, paths and binary names come from inside a sandbox, and must not drive the
 * operator's terminal.
 */
export const clip = (raw: string, width: number) => {
  const text = terminalSafe(raw);
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
};

/** `text` in lines of at most `width` columns, broken at spaces where it can be; later lines indented. */
export function wrapText(text: string, width: number, indent = '  '): string[] {
  const lines: string[] = [];
  let rest = terminalSafe(text);
  let prefix = '';
  while (prefix.length + rest.length > width) {
    const room = width - prefix.length;
    if (room < 8) break;
    const space = rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space : room;
    lines.push(prefix + rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
    prefix = indent;
  }
  lines.push(clip(prefix + rest, width));
  return lines;
}

/**
 * A parent chain (nearest first) in at most `width` columns, shortened only as far as needed: full
 * paths, else base names, else the nearest and the farthest with the middle elided (counted), so
 * the nearest parent and the root of the chain stay readable.
 */
export function chainText(ancestors: readonly string[], width: number): string {
  const full = terminalSafe(ancestors.join(' < '));
  if (full.length <= width) return full;
  const names = ancestors.map(basename);
  const short = terminalSafe(names.join(' < '));
  if (short.length <= width) return short;
  for (let keep = names.length - 1; keep >= 2; keep--) {
    const head = names.slice(0, keep - 1);
    const elided = names.length - keep;
    const text = terminalSafe([...head, `…${elided}…`, names.at(-1)!].join(' < '));
    if (text.length <= width) return text;
  }
  return clip(short, width);
}

/** `[prefix]binary -> host:port METHOD path`, the binary's directory dropped when the whole does not fit. */
function request(binary: string, where: string, width: number, prefix = ''): string {
  const whole = terminalSafe(`${prefix}${binary} -> ${where}`);
  return whole.length <= width ? whole : clip(`${prefix}${basename(binary)} -> ${where}`, width);
}

function destination(a: { host: string; port: number; method?: string | undefined; path?: string | undefined }): string {
  return `${a.host}:${a.port}${a.method !== undefined ? ` ${a.method} ${a.path ?? ''}` : ''}`;
}

/** One decision in `width` columns: time, verdict, sandbox, binary -> where, and the code of a refusal. */
export function eventLine(r: DecisionRecord, width: number): string {
  const where = r.destination ? destination({ ...r.destination, method: r.method, path: r.path }) : (r.target ?? r.action);
  const head = `${r.ts.slice(11, 19)} ${r.sandbox} ${r.verdict.toUpperCase().padEnd(5)} `;
  const code = r.verdict === 'allow' ? '' : ` [${r.code}]`;
  return terminalSafe(head) + request(r.binary.path, where, Math.max(8, width - head.length - code.length)) + terminalSafe(code);
}

/** One audit record in `width` columns: seq, time, kind, sandbox, actor, and as much of the payload as fits. */
export function auditLine(r: AuditTailRecord, width: number): string {
  return clip(`${r.seq} ${r.ts.slice(11, 19)} ${r.kind}${r.sandbox ? ` ${r.sandbox}` : ''}${r.actor ? ` (${r.actor})` : ''} ${r.summary}`, width);
}

/** Two runs of audit records as one, in seq order, each record once, the newest MAX_AUDIT kept. */
function mergeAudit(a: readonly AuditTailRecord[], b: readonly AuditTailRecord[]): AuditTailRecord[] {
  const bySeq = new Map<number, AuditTailRecord>();
  for (const r of [...a, ...b]) bySeq.set(r.seq, r);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-MAX_AUDIT);
}

/** The lines that show one pending approval in `width` columns. */
export function approvalLines(a: ApprovalView, width: number): string[] {
  const lines = [request(a.binary, destination(a), width, `#${a.id} ${a.sandbox} `)];
  if (a.proposal !== undefined) {
    lines.push(clip(`   proposed by the agent (${basename(a.proposal.binary)}, pid ${a.proposal.pid})${a.hits > 1 ? ` · ${a.hits} times` : ''}`, width));
    lines.push(...wrapText(`   reason: ${a.proposal.reason}`, width, '     '));
    return lines;
  }
  const parts = [`${a.content !== undefined ? missingOf(a) : a.code}${a.addresses ? ` (resolves to ${a.addresses.join(', ')})` : ''}`, `${a.hits} hit(s)`, `${a.waiting} waiting`, ...(a.gone > 0 ? [`${a.gone} gone`] : [])];
  const inline = terminalSafe(`   ${[...parts, ...(a.ancestors.length > 0 ? [`via ${a.ancestors.join(' < ')}`] : [])].join(' · ')}`);
  if (inline.length <= width) return [...lines, inline];
  return [...lines, ...packParts(parts, width), ...(a.ancestors.length > 0 ? [`   via ${chainText(a.ancestors, width - 7)}`] : [])];
}

/** Facts joined with ' · ' in lines of at most `width` columns, broken between facts, never inside one. */
function packParts(parts: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const next = line === '' ? `   ${part}` : `${line} · ${part}`;
    if (next.length <= width || line === '') line = next;
    else {
      lines.push(line);
      line = `     · ${part}`;
    }
  }
  return [...lines, line].map((text) => clip(text, width));
}

export function TermApp({ client, rows: fixedRows, columns: fixedColumns }: { client: TermClient; rows?: number; columns?: number }): ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ rows: fixedRows ?? stdout.rows ?? 24, columns: fixedColumns ?? stdout.columns ?? 80 });
  const [sandboxes, setSandboxes] = useState<TermSandbox[]>([]);
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [events, setEvents] = useState<DecisionRecord[]>([]);
  const [audit, setAudit] = useState<AuditTailRecord[]>([]);
  const [history, setHistory] = useState<{ sandbox: string; revisions: TermRevision[] } | undefined>(undefined);
  const [revision, setRevision] = useState<number | undefined>(undefined);
  const [selected, setSelected] = useState(0);
  const [help, setHelp] = useState(false);
  const [confirm, setConfirm] = useState<ApprovalView | undefined>(undefined);
  const [message, setMessage] = useState('');
  const [paused, setPaused] = useState(false);
  const [pane, setPane] = useState<Pane>('events');
  const [scroll, setScroll] = useState(0);
  const [filter, setFilter] = useState<Filter>('all');
  const [hideDecisions, setHideDecisions] = useState(false);
  const [binaryFilter, setBinaryFilter] = useState('');
  const [typing, setTyping] = useState<string | undefined>(undefined);
  const [sandboxFilter, setSandboxFilter] = useState<string | undefined>(undefined);
  const [linkLost, setLinkLost] = useState(false);
  /** Bumped by r after the push stream ended: subscribes again. */
  const [subscription, setSubscription] = useState(0);
  const pendingEvents = useRef<DecisionRecord[]>([]);
  const pendingAudit = useRef<AuditTailRecord[]>([]);
  // A paused or scrolled-back pane holds still: what arrives meanwhile waits (bounded) and is drawn on resume.
  const holding = useRef(false);
  holding.current = paused || scroll > 0;
  const focusedSandbox = sandboxFilter ?? sandboxes[0]?.name;
  const focused = useRef(focusedSandbox);
  focused.current = focusedSandbox;

  const reload = useCallback(() => {
    client.sandboxes().then(setSandboxes, (e: unknown) => setMessage(`sandboxes: ${(e as Error).message}`));
    client.approvals().then(setApprovals, (e: unknown) => setMessage(`approvals: ${(e as Error).message}`));
  }, [client]);

  const loadHistory = useCallback((sandbox: string | undefined) => {
    if (sandbox === undefined) return;
    client.policyHistory(sandbox).then((revisions) => {
      setHistory({ sandbox, revisions });
      setRevision(undefined);
    }, (e: unknown) => setMessage(`policy of ${sandbox}: ${(e as Error).message}`));
  }, [client]);

  useEffect(() => {
    if (fixedRows !== undefined) return undefined;
    const onResize = () => setSize({ rows: stdout.rows ?? 24, columns: stdout.columns ?? 80 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, fixedRows]);

  /** What arrived while held back (a batch, a pause, a scroll) is drawn in one update. */
  const drawPending = () => {
    const batch = pendingEvents.current;
    const records = pendingAudit.current;
    pendingEvents.current = [];
    pendingAudit.current = [];
    if (batch.length > 0) setEvents((old) => [...old, ...batch].slice(-MAX_EVENTS));
    if (records.length > 0) setAudit((old) => mergeAudit(old, records));
  };

  // The policy pane follows the focused sandbox.
  useEffect(() => {
    if (pane === 'policy' && focusedSandbox !== undefined && history?.sandbox !== focusedSandbox) loadHistory(focusedSandbox);
  }, [pane, focusedSandbox, history, loadHistory]);

  useEffect(() => {
    reload();
    let timer: NodeJS.Timeout | undefined;
    let seenAudit = 0;
    const flush = () => {
      timer = undefined;
      if (!holding.current) drawPending();
    };
    const queue = <T>(into: T[], item: T, max: number) => {
      into.push(item);
      if (into.length > max) into.splice(0, into.length - max);
      timer ??= setTimeout(flush, FLUSH_MS);
    };
    setLinkLost(false);
    const unsubscribe = client.subscribe((event) => {
      if (event.event === 'disconnected') {
        setLinkLost(true);
        setMessage(`no more live updates: ${event.reason}; r reconnects`);
        return undefined;
      }
      if (event.event === 'decision') return queue(pendingEvents.current, event.record, MAX_EVENTS);
      if (event.event === 'audit') {
        if (event.record.seq <= seenAudit) return undefined;
        seenAudit = event.record.seq;
        // A new revision of the sandbox whose policy is shown: read its history again.
        if (event.record.kind === 'policy.revision' && event.record.sandbox === focused.current) loadHistory(focused.current);
        // A sandbox made, started, stopped or changed (mode, policy revision): the sandbox list changed.
        if (/^sandbox\./.test(event.record.kind) || event.record.kind === 'policy.revision') reload();
        return queue(pendingAudit.current, event.record, MAX_AUDIT);
      }
      const approval = event.approval;
      setApprovals((old) => {
        const rest = old.filter((a) => a.id !== approval.id);
        return approval.state === 'pending' ? [approval, ...rest].sort((a, b) => a.id - b.id) : rest;
      });
      // A new policy revision (approve always): the sandbox list changed.
      if (event.event === 'decided' && approval.decision === 'always') reload();
      return undefined;
    });
    // Subscribed first, then the tail read: a record in both is shown once (by seq).
    client.auditTail(AUDIT_TAIL).then((tail) => setAudit((old) => mergeAudit(tail, old)), (e: unknown) => setMessage(`audit: ${(e as Error).message}`));
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [client, reload, loadHistory, subscription]);

  // Back to live (or resumed): what waited is drawn now.
  useEffect(() => {
    if (!paused && scroll === 0) drawPending();
  }, [paused, scroll]);

  const shown = approvals.filter((a) => sandboxFilter === undefined || a.sandbox === sandboxFilter);
  const current = shown[Math.min(selected, Math.max(0, shown.length - 1))];

  const act = (what: Promise<string>) => what.then(setMessage, (e: unknown) => setMessage(`refused: ${(e as Error).message}`));
  const approveOnce = (a: ApprovalView) => {
    if (a.proposal !== undefined) {
      setMessage(`#${a.id} is a proposal (nothing is held): A approves it always, d denies it`);
      return;
    }
    act(client.approve(a.id, false, a.version).then((r) => `approved #${a.id} once; ${r.released} request(s) released`));
  };
  const deny = (a: ApprovalView) => act(client.deny(a.id, a.version).then((r) => `denied #${a.id}; ${r.released} request(s) answered 403`));

  const width = Math.max(40, size.columns);
  const height = Math.max(12, size.rows);
  const topHeight = Math.max(5, Math.floor((height - 4) / 2));
  const lowerRows = Math.max(2, height - topHeight - 4);

  // The handler ink calls may be one render old (it is re-attached after each commit): it reads
  // what is on screen now from this ref, so a key pressed right after an update acts on what is shown.
  const screen = useRef({ help, confirm, shown, current, sandboxes, typing, pane, lowerRows, history, revision, linkLost });
  screen.current = { help, confirm, shown, current, sandboxes, typing, pane, lowerRows, history, revision, linkLost };

  useInput((input, key) => {
    const { help, confirm, shown, current, sandboxes, typing, pane, lowerRows, history, revision } = screen.current;
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
    if (typing !== undefined) {
      if (key.return) {
        setBinaryFilter(typing);
        setTyping(undefined);
      } else if (key.escape) {
        setBinaryFilter('');
        setTyping(undefined);
      } else if (key.backspace || key.delete) setTyping(typing.slice(0, -1));
      else if (input !== '' && !key.ctrl && !key.meta && typing.length < 64) setTyping(typing + input.replace(/[\x00-\x1f\x7f]/g, ''));
      return;
    }
    const page = Math.max(1, lowerRows - 2);
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
    else if (input === '1' || input === '2' || input === '3' || key.tab) {
      setPane(key.tab ? PANES[(PANES.indexOf(pane) + 1) % PANES.length]! : PANES[Number(input) - 1]!);
      setScroll(0);
    } else if (input === 'p') setPaused((p) => !p);
    else if (key.pageUp) setScroll((n) => n + page);
    else if (key.pageDown) setScroll((n) => Math.max(0, n - page));
    else if (input === 'G') setScroll(0);
    else if (input === 'f' && pane === 'audit') setHideDecisions((x) => !x);
    else if (input === 'f') setFilter((f) => FILTERS[(FILTERS.indexOf(f) + 1) % FILTERS.length]!);
    else if (input === '/') setTyping(binaryFilter);
    else if ((key.leftArrow || key.rightArrow) && pane === 'policy' && history && history.revisions.length > 0) {
      const last = history.revisions.length - 1;
      const at = revision ?? last;
      setRevision(Math.max(0, Math.min(last, at + (key.leftArrow ? -1 : 1))));
      setScroll(0);
    } else if (input === 's') {
      const names = [undefined, ...sandboxes.map((s) => s.name)];
      setSandboxFilter((f) => names[(names.indexOf(f) + 1) % names.length]);
      setScroll(0);
    } else if (input === 'r') {
      if (screen.current.linkLost) {
        setSubscription((n) => n + 1);
        setMessage('reconnecting');
      }
      reload();
      if (pane === 'policy') loadHistory(focused.current);
    }
  });

  const flags = `${sandboxFilter ? `  [sandbox ${sandboxFilter}]` : ''}${paused ? '  [paused]' : ''}${linkLost ? '  [not live]' : ''}`;
  const title = h(Text, { bold: true }, clip(`warden term  ${sandboxes.length} sandbox(es), ${approvals.length} pending${flags}  ? keys`, width));
  const statusText = typing !== undefined ? `binary filter: ${typing}_   (enter keeps it, esc clears it)` : (message || 'a approve  A always  d deny  1/2/3 panes  ? keys  q quit');
  const status = h(Text, { dimColor: typing === undefined }, clip(statusText, width));

  if (help) {
    return h(Box, { flexDirection: 'column', width, height }, title, h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 },
      h(Text, { bold: true }, 'keys'), ...KEYS.slice(0, height - 5).map(([k, what]) => h(Text, { key: k }, clip(`${k.padEnd(14)} ${what}`, width - 4)))), status);
  }
  if (confirm) {
    return h(Box, { flexDirection: 'column', width, height }, title, h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 },
      h(Text, { bold: true }, clip(`approve #${confirm.id} always: ${request(confirm.binary, destination(confirm), width)} in ${confirm.sandbox}`, width - 4)),
      ...(confirm.proposal !== undefined ? wrapText(`proposed by the agent: ${confirm.proposal.reason}`, width - 4).map((line, i) => h(Text, { key: `r${i}` }, line)) : []),
      h(Text, {}, 'the policy gets a new revision with:'),
      ...draftDiff(confirm).flatMap((line, i) => wrapText(line, width - 4).map((part, j) => h(Text, { key: `${i}.${j}`, color: 'green' }, part))),
      h(Text, {}, confirm.proposal !== undefined ? 'y: write it   any other key: cancel' : 'y: write it and release the request   any other key: cancel')), status);
  }

  const sideWidth = Math.min(28, Math.floor(width / 3));
  const listRows = topHeight - 3;
  const approvalWidth = width - sideWidth - 4;
  const approvalRows: ReactElement[] = [];
  if (shown.length === 0) approvalRows.push(h(Text, { key: 'none', dimColor: true }, 'nothing waiting for an approval'));
  else {
    // From the selected approval back as far as the pane has room, so the selected one is always shown.
    const at = shown.indexOf(current!);
    let first = at;
    let used = approvalLines(current!, approvalWidth).length;
    while (first > 0 && used + approvalLines(shown[first - 1]!, approvalWidth).length <= listRows) used += approvalLines(shown[--first]!, approvalWidth).length;
    let room = listRows;
    for (const a of shown.slice(first)) {
      const lines = approvalLines(a, approvalWidth).slice(0, room);
      if (lines.length === 0) break;
      room -= lines.length;
      const on = a === current;
      lines.forEach((line, i) => approvalRows.push(h(Text, { key: `${a.id}.${i}`, inverse: on && i === 0, dimColor: !on && i > 0, color: a.proposal && i > 0 ? 'cyan' : undefined }, line)));
    }
  }
  const sandboxLines = sandboxes.length === 0
    ? [h(Text, { key: 'none', dimColor: true }, 'no sandboxes')]
    : sandboxes.slice(0, listRows).map((s) => h(Text, { key: s.name, bold: s.name === focusedSandbox && sandboxFilter !== undefined },
      clip(`${s.name === focusedSandbox ? '>' : ' '}${s.name} ${s.state}${s.approvalMode === 'ask' ? ' ask' : ''} r${s.policyRev}`, sideWidth - 4)));

  const inner = width - 4;
  const tabs = PANES.map((p, i) => `${i + 1} ${p}`);
  const tabLine = h(Text, { key: 'tabs' }, ...tabs.flatMap((label, i) => [
    h(Text, { key: label, inverse: PANES[i] === pane, bold: PANES[i] === pane }, PANES[i] === pane ? `[${label}]` : ` ${label} `), h(Text, { key: `${label}-gap` }, ' '),
  ]), h(Text, { dimColor: true }, clip(lowerFlags(), Math.max(0, inner - tabs.reduce((n, label) => n + label.length + 3, 0)))));
  function lowerFlags(): string {
    const parts: string[] = [];
    if (pane === 'events') parts.push(...(filter !== 'all' ? [`verdict ${filter}`] : []), ...(binaryFilter ? [`binary ~${binaryFilter}`] : []));
    if (pane === 'audit' && hideDecisions) parts.push('decisions hidden');
    if (scroll > 0) parts.push(`back ${scroll} (G: live)`);
    else if (paused && pane !== 'policy') parts.push('paused');
    return parts.join(' · ');
  }
  const body = lowerRows - 1;
  /** The `body` lines ending `scroll` lines before the newest. */
  const window = <T>(all: T[]) => all.slice(Math.max(0, all.length - body - scroll), Math.max(0, all.length - scroll));
  let lower: ReactElement[];
  if (pane === 'events') {
    const visible = events.filter((r) => (filter === 'all' || r.verdict === filter) && (sandboxFilter === undefined || r.sandbox === sandboxFilter)
      && (binaryFilter === '' || r.binary.path.includes(binaryFilter)));
    lower = visible.length === 0
      ? [h(Text, { key: 'none', dimColor: true }, `no ${filter === 'all' ? '' : `${filter} `}events${binaryFilter ? ` of binaries matching ${binaryFilter}` : ''} yet`)]
      : window(visible).map((r, i) => h(Text, { key: `${i}`, color: r.verdict === 'allow' ? 'green' : r.verdict === 'deny' ? 'red' : 'yellow' }, eventLine(r, inner)));
  } else if (pane === 'audit') {
    const visible = audit.filter((r) => (sandboxFilter === undefined || r.sandbox === sandboxFilter) && !(hideDecisions && DECISION_KIND.test(r.kind)));
    lower = visible.length === 0
      ? [h(Text, { key: 'none', dimColor: true }, 'no audit records yet')]
      : window(visible).map((r) => h(Text, { key: `${r.seq}`, dimColor: DECISION_KIND.test(r.kind) }, auditLine(r, inner)));
  } else {
    lower = policyPane();
  }
  function policyPane(): ReactElement[] {
    if (focusedSandbox === undefined) return [h(Text, { key: 'none', dimColor: true }, 'no sandboxes')];
    if (history?.sandbox !== focusedSandbox) return [h(Text, { key: 'loading', dimColor: true }, `reading the policy history of ${focusedSandbox}…`)];
    const revisions = history.revisions;
    if (revisions.length === 0) return [h(Text, { key: 'none', dimColor: true }, `${focusedSandbox} has no policy revisions`)];
    const at = Math.min(revision ?? revisions.length - 1, revisions.length - 1);
    const shownRev = revisions[at]!;
    const listWidth = Math.min(24, Math.floor(inner / 3));
    const diffWidth = inner - listWidth - 1;
    const firstRev = Math.max(0, Math.min(at - Math.floor(body / 2), revisions.length - body));
    const list = revisions.slice(firstRev, firstRev + body).map((r, i) => h(Text, { key: `r${r.rev}`, inverse: firstRev + i === at },
      clip(`r${r.rev} ${r.createdAt.slice(11, 16)} ${r.reason ?? r.author}`, listWidth).padEnd(listWidth)));
    const heading = `${focusedSandbox} r${shownRev.rev} by ${shownRev.author} at ${shownRev.createdAt.slice(0, 19).replace('T', ' ')}${shownRev.reason ? `: ${shownRev.reason}` : ''}`;
    const diffLines = shownRev.rev === 1 || shownRev.diff.length === 0
      ? [`first revision (warden policy get ${focusedSandbox} --rev 1 shows it)`]
      : [`diff r${shownRev.rev - 1} -> r${shownRev.rev}:`, ...shownRev.diff.flatMap((line) => wrapText(line, diffWidth, '    '))];
    const all = [...wrapText(heading, diffWidth), ...diffLines];
    const top = Math.min(scroll, Math.max(0, all.length - body));
    const right = all.slice(top, top + body).map((line, i) => h(Text, {
      key: `d${i}`, color: line.startsWith('+ ') ? 'green' : line.startsWith('- ') ? 'red' : line.startsWith('~ ') ? 'yellow' : undefined, bold: i === 0 && top === 0,
    }, line));
    return [h(Box, { key: 'policy', flexDirection: 'row' },
      h(Box, { flexDirection: 'column', width: listWidth, marginRight: 1 }, ...list),
      h(Box, { flexDirection: 'column', width: diffWidth }, ...right))];
  }

  return h(Box, { flexDirection: 'column', width, height },
    title,
    h(Box, { flexDirection: 'row', height: topHeight },
      h(Box, { flexDirection: 'column', width: sideWidth, borderStyle: 'single', paddingX: 1 }, h(Text, { bold: true }, 'sandboxes'), ...sandboxLines),
      h(Box, { flexDirection: 'column', flexGrow: 1, borderStyle: 'single', paddingX: 1 }, h(Text, { bold: true }, `approvals (${shown.length})`), ...approvalRows)),
    h(Box, { flexDirection: 'column', height: lowerRows + 2, borderStyle: 'single', paddingX: 1 }, tabLine, ...lower),
    status);
}
