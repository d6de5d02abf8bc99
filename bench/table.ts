/** One line of bench/RESULTS.md. */
export interface Row {
  group: string;
  name: string;
  value: number;
  unit: string;
  /** The target as written in the issue, e.g. "<= 0.33". */
  target?: string;
  pass?: boolean;
  note?: string;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function renderTable(rows: Row[], context: string[]): string {
  const lines = ['# Benchmark results', '', ...context.map((c) => `- ${c}`), '',
    '| group | measurement | value | unit | target | met |', '|---|---|---:|---|---|---|'];
  for (const row of rows) {
    const met = row.pass === undefined ? '' : row.pass ? 'yes' : '**no**';
    lines.push(`| ${row.group} | ${row.name}${row.note ? ` (${row.note})` : ''} | ${format(row.value)} | ${row.unit} | ${row.target ?? ''} | ${met} |`);
  }
  return lines.join('\n') + '\n';
}
