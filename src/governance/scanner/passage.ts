// A passage is a text read as segments, and a window is one to three consecutive segments (a
// directive is a sentence or two). The model scores every window; the text's score is that of
// its best window, so a directive inside a long document is not diluted by the document.
import { conjunctions, markPositions, segmentText, TAG_TEXT, DECODED_PAYLOAD, type Edges, type Segment } from './features.js';
import type { ScoringWeights } from './model.js';
import { normalize, type Normalized } from './normalize.js';

export const MAX_WINDOW_SEGMENTS = 3;
/** Normalised units a window may span (beyond its first segment). */
export const MAX_WINDOW_UNITS = 800;

export interface Passage {
  normalized: Normalized;
  segments: Segment[];
  /** Dense features every window of this passage has (a decoded payload, tag text). */
  extra: number[];
}

export interface Window {
  /** Segment indices, inclusive. */
  first: number;
  last: number;
  dense: number[];
}

export type PassageKind = 'text' | 'decoded' | 'tag';

/** Reads `text`; with `weights` each segment's hashed weights are summed, without they are kept for training. */
export function readPassage(text: string, kind: PassageKind, weights: ScoringWeights | null, reuse = false, edges?: Edges): Passage {
  const normalized = normalize(text, reuse);
  const segments = segmentText(normalized.units, markPositions(normalized), weights, reuse, edges);
  const extra = kind === 'text' ? [] : kind === 'decoded' ? [DECODED_PAYLOAD] : [DECODED_PAYLOAD, TAG_TEXT];
  return { normalized, segments, extra };
}

/** Calls `visit` for every window of the passage, in a fixed order. */
export function forEachWindow(passage: Passage, visit: (window: Window) => void): void {
  const { segments, extra } = passage;
  const n = segments.length;
  for (let first = 0; first < n; first++) {
    const start = segments[first]!.start;
    for (let last = first; last < n && last < first + MAX_WINDOW_SEGMENTS; last++) {
      if (last > first && segments[last]!.end - start > MAX_WINDOW_UNITS) break;
      visit({ first, last, dense: windowDense(segments, first, last, extra) });
    }
  }
}

const NONE: number[] = [];

function windowDense(segments: Segment[], first: number, last: number, extra: number[]): number[] {
  let any = extra.length > 0;
  for (let s = first; s <= last && !any; s++) any = segments[s]!.dense.length > 0;
  if (!any) return NONE;
  const dense = new Set<number>(extra);
  for (let s = first; s <= last; s++) for (const d of segments[s]!.dense) dense.add(d);
  conjunctions(dense);
  return [...dense].sort((a, b) => a - b);
}
