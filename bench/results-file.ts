// bench/RESULTS.md is written by two commands: `npm run bench` (the table of every other benchmark)
// and `npm run eval:scanner` (the directive scanner's section, between two markers). Each keeps
// what the other wrote.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- eval:scanner: start (written by `npm run eval:scanner`) -->';
const END = '<!-- eval:scanner: end -->';

function read(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The text before the scanner section, and the section with its markers ('' when there is none). */
function split(text: string): { rest: string; section: string } {
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) return { rest: text, section: '' };
  return { rest: text.slice(0, from) + text.slice(to + END.length), section: text.slice(from, to + END.length) };
}

const join = (rest: string, section: string) => (section === '' ? rest : `${rest.trimEnd()}\n\n${section}\n`);

/** Writes the benchmark table, keeping the scanner section of the file. */
export function writeBenchTable(file: string, table: string): void {
  writeFileSync(file, join(table, split(read(file)).section));
}

/** Writes (or replaces) the scanner section, keeping the rest of the file. */
export function writeScannerSection(file: string, report: string): void {
  const section = `${START}\n${report.trim()}\n${END}`;
  writeFileSync(file, join(split(read(file)).rest, section));
}
