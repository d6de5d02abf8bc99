// Training: logistic regression over windows, where a text's logit is a soft maximum over its
// windows (multiple-instance learning: an injected email is one bad sentence among good ones,
// and nobody marked which). Adagrad, L2, fixed seed, stable order: the same examples give the
// same weights, bit for bit.
import { DENSE_FEATURES, DENSE_PRIOR, HASH_BITS } from './features.js';
import { COUNT_PRIOR, decodeWeights, emptyModel, encodeWeights, type DirectiveModel } from './model.js';
import { originalEnd } from './normalize.js';
import { forEachWindow, type Passage, type Window } from './passage.js';
import { chunks, readChunk } from './scan.js';
import type { ScanThresholds } from './types.js';

export interface TrainingExample {
  text: string;
  /** 1: carries a directive aimed at the AI reading it; 0: benign. */
  label: 0 | 1;
  /** Relative weight in the loss (default 1). */
  weight?: number;
  /**
   * For label 1: where the directive is, when known ([start, end) offsets into `text`). Only
   * windows overlapping it may then explain the label, so the text around a directive (an
   * email, a table) is never learned as a directive.
   */
  focus?: ReadonlyArray<readonly [number, number]>;
}

export interface TrainingOptions {
  epochs?: number;
  seed?: number;
  learningRate?: number;
  /** L2 penalty per update on the weights an example touches. */
  l2?: number;
  /** Soft-maximum sharpness at the last epoch (it grows linearly from 1). */
  sharpness?: number;
  /** Learning rate of the dense (rule) weights, relative to the hashed ones. */
  denseRate?: number;
  /** L2 penalty pulling dense weights towards their prior (DENSE_PRIOR). */
  denseL2?: number;
  /** Average the weights of the epochs from this fraction of training on (negative: keep the last). */
  averageFrom?: number;
}

export const DEFAULT_TRAINING: Required<TrainingOptions> = { epochs: 12, seed: 20251121, learningRate: 0.2, l2: 1e-4, sharpness: 8, denseRate: 1, denseL2: 1e-3, averageFrom: 0.5 };

/** Share of a window that must lie in the focus for the window to explain a positive label. */
const FOCUS_SHARE = 0.6;

interface ReadExample {
  passages: Passage[];
  windows: Array<{ passage: number; window: Window; eligible: boolean }>;
  label: 0 | 1;
  weight: number;
}

function readExample(example: TrainingExample): ReadExample {
  const passages: Passage[] = [];
  const windows: ReadExample['windows'] = [];
  // A window may explain the label when most of it is the directive: windows that add the
  // surrounding text would teach the model that text too.
  const mostlyFocus = (start: number, end: number) => {
    if (!example.focus) return true;
    let inside = 0;
    for (const [s, e] of example.focus) inside += Math.max(0, Math.min(e, end) - Math.max(s, start));
    return inside >= FOCUS_SHARE * (end - start);
  };
  for (const [chunkStart, chunkEnd] of chunks(example.text)) {
    for (const { passage, start, end } of readChunk(example.text.slice(chunkStart, chunkEnd), null, { start: chunkStart === 0, end: chunkEnd === example.text.length })) {
      const p = passages.push(passage) - 1;
      const decoded = passage.extra.length > 0;
      const { segments, normalized } = passage;
      forEachWindow(passage, (window) => {
        const from = decoded ? start : normalized.start[segments[window.first]!.start] ?? 0;
        const to = decoded ? end : originalEnd(normalized, segments[window.last]!.end - 1);
        windows.push({ passage: p, window, eligible: mostlyFocus(chunkStart + from, chunkStart + to) });
      });
    }
  }
  if (example.label === 1 && !windows.some((w) => w.eligible)) for (const w of windows) w.eligible = true;
  return { passages, windows, label: example.label, weight: example.weight ?? 1 };
}

/** Mulberry32: a small seeded generator, for the example order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(length: number, random: () => number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

class Trainer {
  readonly model: DirectiveModel = emptyModel();
  private readonly hashedSquares = new Float64Array(1 << HASH_BITS);
  private readonly denseSquares = new Float64Array(DENSE_FEATURES.length);
  private biasSquare = 0;

  constructor(private readonly options: Required<TrainingOptions>) {
    DENSE_PRIOR.forEach((w, i) => { this.model.dense[i] = w; });
  }

  logits(example: ReadExample): Float64Array {
    const sums = example.passages.map((p) => p.segments.map((s) => this.segmentSum(s.hashed!)));
    const z = new Float64Array(example.windows.length);
    example.windows.forEach(({ passage, window }, k) => {
      const segments = example.passages[passage]!.segments;
      let sum = 0, count = 0;
      for (let s = window.first; s <= window.last; s++) { sum += sums[passage]![s]!; count += segments[s]!.count; }
      let logit = this.model.bias + (count > 0 ? sum / Math.sqrt(count + COUNT_PRIOR) : 0);
      for (const d of window.dense) logit += this.model.dense[d]!;
      z[k] = logit;
    });
    return z;
  }

  private segmentSum(hashed: Int32Array): number {
    let sum = 0;
    for (let k = 0; k < hashed.length; k++) sum += this.model.hashed[hashed[k]!]!;
    return sum;
  }

  step(example: ReadExample, sharpness: number): void {
    if (example.windows.length === 0) return;
    const z = this.logits(example);
    // A directive's label is explained by the windows that may hold it; a benign text's by all.
    const eligible = (k: number) => example.label === 0 || example.windows[k]!.eligible;
    let max = -Infinity;
    for (let k = 0; k < z.length; k++) if (eligible(k) && z[k]! > max) max = z[k]!;
    const share = new Float64Array(z.length);
    let total = 0;
    for (let k = 0; k < z.length; k++) { share[k] = eligible(k) ? Math.exp(sharpness * (z[k]! - max)) : 0; total += share[k]!; }
    let pooled = 0;
    for (let k = 0; k < z.length; k++) { share[k] = share[k]! / total; pooled += share[k]! * z[k]!; }
    const gradient = example.weight * (1 / (1 + Math.exp(-pooled)) - example.label);
    for (let k = 0; k < z.length; k++) {
      if (share[k]! < 1e-3) continue;
      this.update(example, k, gradient * share[k]!);
    }
  }

  private update(example: ReadExample, k: number, g: number): void {
    const { passage, window } = example.windows[k]!;
    const segments = example.passages[passage]!.segments;
    let count = 0;
    for (let s = window.first; s <= window.last; s++) count += segments[s]!.count;
    const { learningRate, l2 } = this.options;
    if (count > 0) {
      const scaled = g / Math.sqrt(count + COUNT_PRIOR);
      const weights = this.model.hashed;
      for (let s = window.first; s <= window.last; s++) {
        const hashed = segments[s]!.hashed!;
        for (let f = 0; f < hashed.length; f++) {
          const h = hashed[f]!;
          const grad = scaled + l2 * weights[h]!;
          this.hashedSquares[h] = this.hashedSquares[h]! + grad * grad;
          weights[h] = weights[h]! - learningRate * grad / Math.sqrt(this.hashedSquares[h]! + 1e-8);
        }
      }
    }
    for (const d of window.dense) {
      const grad = g + this.options.denseL2 * (this.model.dense[d]! - DENSE_PRIOR[d]!);
      this.denseSquares[d] = this.denseSquares[d]! + grad * grad;
      this.model.dense[d] = this.model.dense[d]! - learningRate * this.options.denseRate * grad / Math.sqrt(this.denseSquares[d]! + 1e-8);
    }
    this.biasSquare += g * g;
    this.model.bias -= learningRate * g / Math.sqrt(this.biasSquare + 1e-8);
  }
}

/** Trains a model on `examples` (read in the given order, then shuffled per epoch with the seed). */
export function trainDirectiveModel(examples: readonly TrainingExample[], options: TrainingOptions = {}): DirectiveModel {
  const settings = { ...DEFAULT_TRAINING, ...options };
  const read = examples.map(readExample);
  const trainer = new Trainer(settings);
  const random = seededRandom(settings.seed);
  // The model returned is the average of the weights at the end of the later epochs: it varies
  // less with the order of the last few examples than the weights of any one epoch.
  const averaged = emptyModel();
  let snapshots = 0;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    const sharpness = 1 + (settings.sharpness - 1) * (settings.epochs === 1 ? 1 : epoch / (settings.epochs - 1));
    for (const i of shuffled(read.length, random)) trainer.step(read[i]!, sharpness);
    if (settings.averageFrom >= 0 && epoch >= Math.floor(settings.epochs * settings.averageFrom)) {
      addInto(averaged, trainer.model);
      snapshots++;
    }
  }
  const model = snapshots > 0 ? scaled(averaged, 1 / snapshots) : trainer.model;
  // Round-trip through the stored form, so that the trained model is exactly what ships.
  return decodeWeights(encodeWeights(model));
}


function addInto(sum: DirectiveModel, model: DirectiveModel): void {
  sum.bias += model.bias;
  for (let i = 0; i < sum.dense.length; i++) sum.dense[i] = sum.dense[i]! + model.dense[i]!;
  for (let i = 0; i < sum.hashed.length; i++) sum.hashed[i] = sum.hashed[i]! + model.hashed[i]!;
}

function scaled(model: DirectiveModel, factor: number): DirectiveModel {
  model.bias *= factor;
  for (let i = 0; i < model.dense.length; i++) model.dense[i] = model.dense[i]! * factor;
  for (let i = 0; i < model.hashed.length; i++) model.hashed[i] = model.hashed[i]! * factor;
  return model;
}

/** The TypeScript module that carries trained weights and default thresholds (weights.generated.ts). */
export function renderWeightsModule(model: DirectiveModel, header: readonly string[], thresholds: ScanThresholds): string {
  const stored = { ...encodeWeights(model), thresholds };
  return [
    '// GENERATED by `npm run train:scanner` (bench/scanner-train.ts). Do not edit by hand.',
    ...header.map((line) => `// ${line}`),
    `export const MODEL_WEIGHTS = ${JSON.stringify(stored, null, 1)} as const;`,
    '',
  ].join('\n');
}
