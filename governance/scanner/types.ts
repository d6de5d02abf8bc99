/** What a directive aims at. */
export type ScanCategory =
  | 'instruction_override'
  | 'role_hijack'
  | 'exfiltration'
  | 'tool_smuggling'
  | 'hidden_text';

export const SCAN_CATEGORIES: readonly ScanCategory[] = [
  'instruction_override', 'role_hijack', 'exfiltration', 'tool_smuggling', 'hidden_text',
];

/** pass: nothing to do; flag: annotate and audit; quarantine: hold for approval; block: refuse. */
export type ScanVerdict = 'pass' | 'flag' | 'quarantine' | 'block';

/** Lowest score for each verdict; flag <= quarantine <= block, all in 0..1. */
export interface ScanThresholds {
  flag: number;
  quarantine: number;
  block: number;
}

/** A part of the original input that drove the score. Offsets are UTF-16 indices into the input. */
export interface ScanSpan {
  start: number;
  end: number;
  category: ScanCategory;
  /** The rule that matched (e.g. "override.ignore_previous"), or "model" for a passage the learned model scored. */
  reason: string;
}

export interface ScanResult {
  verdict: ScanVerdict;
  /** 0..1: how sure the scanner is that the text carries instructions aimed at the agent reading it. */
  score: number;
  categories: ScanCategory[];
  spans: ScanSpan[];
}

export interface ScanOptions {
  thresholds?: Partial<ScanThresholds>;
  /** At most this many spans are returned (default 32). */
  maxSpans?: number;
}
