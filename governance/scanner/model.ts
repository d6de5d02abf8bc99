// The learned model: logistic regression over a window's features. Hashed features are scaled
// by 1/sqrt(count) so that long and short windows score alike; dense features count fully.
import { Buffer } from 'node:buffer';
import { DENSE_FEATURES, HASH_BITS } from './features.js';
import type { Passage, Window } from './passage.js';
import { MODEL_WEIGHTS } from './weights.generated.js';

/**
 * Added to a window's feature count before the square root: a window of three words should not
 * score like a paragraph on the strength of one n-gram.
 */
export const COUNT_PRIOR = 16;

export interface DirectiveModel {
  bias: number;
  /** One weight per dense feature, in DENSE_FEATURES order. */
  dense: Float32Array;
  /** One weight per hash bucket. */
  hashed: Float32Array;
}

/** How weights are stored in weights.generated.ts. */
export interface StoredWeights {
  format: 1;
  hashBits: number;
  bias: number;
  dense: Record<string, number>;
  /** Non-zero hashed weights: bucket gaps as unsigned LEB128 varints, base64. */
  hashedIndex: string;
  /** Their values as little-endian int16 times hashedScale, base64. */
  hashedValue: string;
  hashedScale: number;
  /** Default thresholds chosen with the model (see bench/scanner-train.ts). */
  thresholds?: { flag: number; quarantine: number; block: number };
}

export function emptyModel(): DirectiveModel {
  return { bias: 0, dense: new Float32Array(DENSE_FEATURES.length), hashed: new Float32Array(1 << HASH_BITS) };
}

export function decodeWeights(stored: StoredWeights): DirectiveModel {
  if (stored.hashBits !== HASH_BITS) throw new Error(`scanner weights were trained for ${stored.hashBits} hash bits, the code uses ${HASH_BITS}: retrain (npm run train:scanner)`);
  const model = emptyModel();
  model.bias = stored.bias;
  DENSE_FEATURES.forEach((name, i) => { model.dense[i] = stored.dense[name] ?? 0; });
  const gaps = Buffer.from(stored.hashedIndex, 'base64');
  const values = Buffer.from(stored.hashedValue, 'base64');
  let bucket = -1, at = 0;
  for (let k = 0; k * 2 < values.length; k++) {
    let gap = 0, shift = 0, byte: number;
    do { byte = gaps[at++]!; gap += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    bucket += gap;
    model.hashed[bucket] = values.readInt16LE(k * 2) * stored.hashedScale;
  }
  return model;
}

export function encodeWeights(model: DirectiveModel): StoredWeights {
  let max = 0;
  for (const w of model.hashed) max = Math.max(max, Math.abs(w));
  const scale = max > 0 ? max / 32767 : 1;
  const gaps: number[] = [];
  const values: number[] = [];
  let previous = -1;
  model.hashed.forEach((w, bucket) => {
    const q = Math.round(w / scale);
    if (q === 0) return;
    let gap = bucket - previous;
    previous = bucket;
    while (gap >= 0x80) { gaps.push((gap & 0x7f) | 0x80); gap = Math.floor(gap / 0x80); }
    gaps.push(gap);
    values.push(q);
  });
  const valueBytes = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => valueBytes.writeInt16LE(v, i * 2));
  const dense: Record<string, number> = {};
  DENSE_FEATURES.forEach((name, i) => { dense[name] = round(model.dense[i]!); });
  return {
    format: 1, hashBits: HASH_BITS, bias: round(model.bias), dense,
    hashedIndex: Buffer.from(gaps).toString('base64'), hashedValue: valueBytes.toString('base64'), hashedScale: scale,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Hashed weights as scanning reads them: int16 (half the cache footprint of float32) times a scale. */
export interface ScoringWeights {
  values: Int16Array;
  scale: number;
}

const scoring = new WeakMap<DirectiveModel, ScoringWeights>();

/** The model's hashed weights quantised for scanning (exact for a model decoded from its stored form). */
export function scoringWeights(model: DirectiveModel): ScoringWeights {
  let weights = scoring.get(model);
  if (!weights) {
    let max = 0;
    for (const w of model.hashed) max = Math.max(max, Math.abs(w));
    const scale = max > 0 ? max / 32767 : 1;
    const values = new Int16Array(model.hashed.length);
    model.hashed.forEach((w, i) => { values[i] = Math.round(w / scale); });
    weights = { values, scale };
    scoring.set(model, weights);
  }
  return weights;
}

let shipped: DirectiveModel | undefined;

/** The model trained by `npm run train:scanner`, decoded on first use. */
export function shippedModel(): DirectiveModel {
  shipped ??= decodeWeights(MODEL_WEIGHTS as StoredWeights);
  return shipped;
}

/** The model's logit for a window of a passage read with the model's weights. */
export function windowLogit(model: DirectiveModel, passage: Passage, window: Window): number {
  let sum = 0, count = 0;
  for (let s = window.first; s <= window.last; s++) { const segment = passage.segments[s]!; sum += segment.sum; count += segment.count; }
  let z = model.bias + (count > 0 ? sum / Math.sqrt(count + COUNT_PRIOR) : 0);
  for (const d of window.dense) z += model.dense[d]!;
  return z;
}
