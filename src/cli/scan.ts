// `warden scan`: the directive (prompt-injection) scanner on a file, stdin, or JSON lines.
// The scanner itself (and its model) loads only when this command runs.
import { InvalidArgumentError, type Command } from 'commander';
import { createReadStream, readFileSync } from 'node:fs';
import type { ScanResult, ScanThresholds } from '../governance/index.js';
import { CliError, printJsonResult, printLine } from './output.js';

/** Exit codes of `warden scan`. */
export const SCAN_EXIT = { clean: 0, detected: 1, usage: 2 } as const;

const USAGE_LINE = 'usage: warden scan [--json] [--flag P] [--quarantine P] [--block P] FILE|-  or  warden scan --jsonl FILE|-';

export interface ScanCliOptions {
  json?: boolean;
  jsonl?: string;
  flag?: number;
  quarantine?: number;
  block?: number;
}

/** commander parser for a threshold: a number from 0 to 1. */
export function parseProbability(value: string): number {
  const p = /^(?:0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(p)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return p;
}

/** Adds `warden scan` to the program. */
export function registerScanCommand(program: Command, setExit: (code: number) => void, mode: { json: boolean }): void {
  program
    .command('scan')
    .summary('score text for instructions aimed at an AI agent (prompt injection)')
    .description([
      'Score FILE (or stdin, with -) for directives aimed at the AI that will read it: instruction overrides, ' +
        'role or identity hijacks, requests to leak secrets or data, smuggled tool calls or commands, and hidden text ' +
        '(invisible characters, Unicode tag characters, bidi controls, look-alike letters, fake chat markers, ' +
        'base64/hex/URL-encoded payloads). Text that only discusses prompt injection, or asks a human reader to do ' +
        'something, is not a directive. What it catches and misses, and how it was measured: docs/scanner.md.',
      'The verdict comes from the score (0..1) and the thresholds: pass below --flag, flag (annotate and audit), ' +
        'quarantine (hold for approval), block. Spans are UTF-16 offsets into the input as decoded from UTF-8.',
      'With --jsonl, every line of FILE is a JSON object with a string "text"; one result per line is printed, ' +
        'in the same order, as {"verdict", "score", "categories"}. Blank lines are skipped.',
      'Exit codes: 0 every input passed; 1 at least one input was flagged, quarantined or blocked (like grep, so ' +
        '`warden scan page.txt && feed-to-agent` only proceeds on clean text); 2 bad usage, an unreadable input, or ' +
        'a --jsonl line that is not an object with a string "text".',
    ].join('\n\n'))
    .argument('[FILE]', 'the text to scan; - for stdin')
    .option('--json', 'print {verdict, score, categories, spans: [{start, end, category, reason, text}]} as JSON')
    .option('--jsonl <FILE>', 'scan each line of FILE (- for stdin), a JSON object with a "text" field; print one result per line')
    .option('--flag <P>', 'lowest score that is flagged (default: the trained model\'s threshold)', parseProbability)
    .option('--quarantine <P>', 'lowest score that is quarantined', parseProbability)
    .option('--block <P>', 'lowest score that is blocked', parseProbability)
    .showHelpAfterError(USAGE_LINE)
    .addHelpText('after', '\nExamples:\n  warden scan page.html\n  curl -s https://example.com | warden scan --json -\n' +
      '  warden scan --jsonl tool-results.jsonl > verdicts.jsonl\n  warden scan --flag 0.7 email.txt || echo "held for review"')
    .action(async (file: string | undefined, opts: ScanCliOptions, command: Command) => {
      mode.json = Boolean(opts.json);
      if ((file === undefined) === (opts.jsonl === undefined)) {
        command.error(file === undefined ? 'error: give FILE (or - for stdin), or --jsonl FILE' : 'error: give either FILE or --jsonl FILE, not both', { exitCode: SCAN_EXIT.usage, code: 'warden.usage' });
      }
      if (opts.jsonl !== undefined && opts.json) command.error('error: --json and --jsonl do not go together (--jsonl already prints JSON)', { exitCode: SCAN_EXIT.usage, code: 'warden.usage' });
      const { scanText, resolveThresholds } = await import('../governance/index.js');
      let thresholds: ScanThresholds;
      try {
        thresholds = resolveThresholds(definedThresholds(opts));
      } catch (error) {
        command.error(`error: ${(error as Error).message}`, { exitCode: SCAN_EXIT.usage, code: 'warden.usage' });
      }
      const scan = (text: string) => scanText(text, { thresholds });
      setExit(opts.jsonl !== undefined ? await scanJsonLines(opts.jsonl, scan) : scanOne(file!, scan, Boolean(opts.json)));
    });
}

function definedThresholds(opts: ScanCliOptions): Partial<ScanThresholds> {
  const out: Partial<ScanThresholds> = {};
  if (opts.flag !== undefined) out.flag = opts.flag;
  if (opts.quarantine !== undefined) out.quarantine = opts.quarantine;
  if (opts.block !== undefined) out.block = opts.block;
  return out;
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError('unreadable_input', `cannot read ${file === '-' ? 'stdin' : file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, SCAN_EXIT.usage);
  }
}

function scanOne(file: string, scan: (text: string) => ScanResult, json: boolean): number {
  const text = readInput(file);
  const result = scan(text);
  if (json) {
    const shown = { ...result, spans: result.spans.map((s) => ({ ...s, text: text.slice(s.start, s.end) })) };
    printJsonResult(shown, result.verdict === 'pass' ? undefined : { code: 'detected', message: `${result.verdict}: ${result.categories.join(', ')}` });
  } else {
    printLine(1, `${result.verdict}  score ${result.score.toFixed(4)}${result.categories.length > 0 ? `  ${result.categories.join(', ')}` : ''}`);
    for (const span of result.spans) {
      printLine(1, `  ${span.start}-${span.end}  ${span.category}  ${span.reason}  ${JSON.stringify(excerpt(text.slice(span.start, span.end)))}`);
    }
  }
  return result.verdict === 'pass' ? SCAN_EXIT.clean : SCAN_EXIT.detected;
}

/** At most 120 characters of a span, for a terminal. */
function excerpt(text: string): string {
  return text.length <= 120 ? text : `${text.slice(0, 117)}...`;
}

async function scanJsonLines(file: string, scan: (text: string) => ScanResult): Promise<number> {
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const name = file === '-' ? 'stdin' : file;
  // Loaded here, not with the CLI: node:readline costs every other command start-up time.
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let detected = false;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const text = textOf(line);
      if (text === undefined) throw new CliError('bad_jsonl', `${name}:${lineNumber}: expected a JSON object with a string "text"`, SCAN_EXIT.usage);
      const { verdict, score, categories } = scan(text);
      if (verdict !== 'pass') detected = true;
      printLine(1, JSON.stringify({ verdict, score, categories }));
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('unreadable_input', `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, SCAN_EXIT.usage);
  }
  return detected ? SCAN_EXIT.detected : SCAN_EXIT.clean;
}

function textOf(line: string): string | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const text = (value as { text?: unknown }).text;
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}
