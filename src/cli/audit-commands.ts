// Registration of `warden audit verify|export` and `warden logs`. Kept apart from their
// implementations (audit.ts, logs.ts), which load the store and the audit component only when
// one of these commands runs: every other command, `warden run` first, starts without them.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AuditExportFormat } from '../audit/index.js';
import type { AuditPosition } from '../store/index.js';

/** The audit component's AUDIT_EXPORT_FORMATS, written out to keep it off start-up (a test keeps them equal). */
export const EXPORT_FORMATS: readonly AuditExportFormat[] = ['jsonl', 'ocsf'];

/** commander parser for `--since SEQ`: a record number, 0 or more. */
export function parseSeq(value: string): number {
  const seq = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(seq)) throw new InvalidArgumentError('expected a record number (0 or more), as shown by `warden logs` or `warden audit export`');
  return seq;
}

/** commander parser for `logs --since`: a record number, a duration back from now (5m, 2h) or an ISO time. */
export function parseSinceOption(value: string): { seq: number } | { time: Date } {
  if (/^\d{1,15}$/.test(value)) return { seq: Number(value) };
  const duration = /^(\d{1,9})(s|m|h|d)$/.exec(value);
  if (duration) return { time: new Date(Date.now() - Number(duration[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd']) };
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : undefined;
  if (time !== undefined && !Number.isNaN(time.getTime())) return { time };
  throw new InvalidArgumentError('expected a record number (1200), a duration back from now (30s, 5m, 2h, 7d) or a time (2026-01-01T10:00:00Z)');
}

/** commander parser for `--tail N`. */
function parseCount(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expected a number of records (0 or more)');
  return Number(value);
}

/** commander parser for `--anchor SEQ:HASH`. */
export function parseAnchor(value: string): AuditPosition {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected SEQ:HASH, the head printed by an earlier `warden audit verify` (e.g. 42:9f86d0...)');
  return { seq: Number(match[1]), hash: match[2]! };
}

/** Adds `warden audit verify` and `warden audit export` to the program. */
export function registerAuditCommands(program: Command, setExit: (code: number) => void, mode: { json: boolean }): void {
  const audit = program
    .command('audit')
    .summary('verify and export the audit log')
    .description('The audit log: one hash-chained record for every network verdict, sandbox lifecycle event, ' +
      'policy revision and command started in a sandbox. These commands read WARDEN_HOME directly; the gateway ' +
      'need not run. Format and guarantees: docs/audit.md.');

  audit
    .command('verify')
    .summary('prove the audit log is intact, or name the first broken record')
    .description([
      'Walk the whole audit log in one consistent snapshot and check every record: sequence numbers without gaps, ' +
        "each record's prev_hash equal to the previous record's hash, each hash matching its record, and the stored " +
        'head naming the last record. Stops at the first record it cannot vouch for and says why.',
      'Exit 0: intact; prints the record count and the head (SEQ:HASH). Exit 1: broken, or unreadable; prints ' +
        'the first broken record, the reason, and what to do next. 125: the store could not be opened.',
      'A log rewritten consistently from some record on (hashes and head recomputed) verifies by itself. Keep the ' +
        'head printed by an earlier run somewhere the log\'s writers cannot reach and pass it as --anchor: the record ' +
        'it names must still carry that hash.',
    ].join('\n\n'))
    .option('--anchor <SEQ:HASH>', 'a head printed by an earlier verify; the record SEQ must still have HASH', parseAnchor)
    .option('--json', 'print {ok, records, head} or {ok: false, records, first_broken: {seq, reason}, next} as JSON')
    .addHelpText('after', '\nExamples:\n  warden audit verify\n  warden audit verify --anchor 1200:3f0c...e9 --json')
    .action(async (opts: { json?: boolean; anchor?: AuditPosition }) => {
      mode.json = Boolean(opts.json);
      setExit((await import('./audit.js')).auditVerifyCommand({ json: Boolean(opts.json), ...(opts.anchor ? { anchor: opts.anchor } : {}) }));
    });

  audit
    .command('export')
    .summary('stream the audit log as JSON lines or OCSF events')
    .description([
      'Write the audit records present when the export starts, oldest first, one per line.',
      'jsonl: each record as canonical JSON with its hash (keys actor, hash, kind, payload, prev_hash, sandbox, seq, ts); ' +
        'removing "hash" and hashing the canonical JSON of the rest gives it back, so an export can be checked ' +
        'without warden. ocsf: one OCSF 1.3-shaped event per record, the original record under unmapped.warden.',
      'The export does not verify the log: run `warden audit verify` for that. With --output the file is written ' +
        'completely (mode 0600) or not at all.',
    ].join('\n\n'))
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('jsonl'))
    .option('-o, --output <file>', 'write to FILE instead of stdout (replaced atomically; a count is printed on stderr)')
    .option('--sandbox <name>', 'only records of this sandbox')
    .option('--since <seq>', 'only records after record number SEQ (seq > SEQ)', parseSeq)
    .addHelpText('after', '\nExamples:\n  warden audit export --format jsonl > audit.jsonl\n' +
      '  warden audit export --format ocsf --sandbox dev --output dev.ocsf.jsonl\n  warden audit export --since 1200')
    .action(async (opts: { format: AuditExportFormat; output?: string; sandbox?: string; since?: number }) => {
      setExit(await (await import('./audit.js')).auditExportCommand(opts));
    });
}

/** Adds `warden logs` to the program. */
export function registerLogsCommand(program: Command, setExit: (code: number) => void, mode: { json: boolean }): void {
  program
    .command('logs')
    .summary("show a sandbox's network verdicts, commands and lifecycle events")
    .description([
      'Print the audit records of sandbox NAME, oldest first, one line each: time, record number (#SEQ), kind, ' +
        'and what happened. Network verdicts read `ALLOW|DENY BINARY (pid N) -> HOST:PORT [METHOD PATH]` followed ' +
        'by the policy that allowed it or the reason for the denial.',
      'With -f, keep printing new records as they are written (checked every 200 ms) until Ctrl-C or SIGTERM, then ' +
        'exit 0. A deleted sandbox still shows its history. Reads WARDEN_HOME directly; the gateway need not run.',
      'Text that came from inside the sandbox (hosts, paths, binary names) is printed with control characters escaped.',
    ].join('\n\n'))
    .argument('<NAME>', 'the sandbox')
    .option('-f, --follow', 'keep printing new records until interrupted')
    .option('--since <when>', 'only records after record number SEQ (seq > SEQ), or from a time: a duration back from now (30s, 5m, 2h, 7d) or ISO 8601', parseSinceOption)
    .option('--tail <n>', 'only the last N records (then, with -f, new ones)', parseCount)
    .option('--json', 'print one JSON object per record: {seq, ts, kind, sandbox, actor, payload, prev_hash, hash}')
    .option('--main', "print the output of the sandbox's main command instead (with -f, follow it)")
    .addHelpText('after', '\nExamples:\n  warden logs dev\n  warden logs dev -f\n  warden logs dev --since 1200 --json\n  warden logs dev --main -f')
    .action(async (name: string, opts: { follow?: boolean; since?: { seq: number } | { time: Date }; tail?: number; json?: boolean; main?: boolean }) => {
      mode.json = Boolean(opts.json);
      if (opts.main) {
        setExit(await (await import('./logs.js')).mainLogCommand(name, { follow: Boolean(opts.follow) }));
        return;
      }
      const since = opts.since !== undefined && 'seq' in opts.since ? opts.since.seq : 0;
      const sinceTime = opts.since !== undefined && 'time' in opts.since ? opts.since.time : undefined;
      setExit(await (await import('./logs.js')).logsCommand(name, {
        follow: Boolean(opts.follow), since, json: Boolean(opts.json), ...(sinceTime ? { sinceTime } : {}), ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      }));
    });
}
