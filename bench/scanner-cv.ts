// `npm run cv:scanner`: the development loop for the directive scanner. 5-fold cross-validation
// on the TRAINING split of the dev set only (folds by row group, as train:scanner's threshold
// search), plus the generated original text in every fold: out-of-fold recall at fixed
// false-positive rates, per source and BIPIA category, and the misses and false alarms written
// to a file for reading ($CV_ERRORS, default /tmp/scanner-cv-errors.txt). The held-out split is
// never read here: decisions made while developing the scanner are made on these numbers, not on
// eval:scanner's.
//
// CV_ORIGINAL_ONLY=1: train once on the original text alone (no dev row) and score the whole
// training split: how far the original text carries to sources it never saw.
// CV_DENSE=1: print the first fold's rule, mark and context weights. CV_FOLDS=n: only n folds.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DEFAULT_THRESHOLDS, scanTextWithModel, trainDirectiveModel } from '../src/governance/index.js';
import { DENSE_FEATURES } from '../src/governance/scanner/features.js';
import { scoringWeights, windowLogit, type DirectiveModel } from '../src/governance/scanner/model.js';
import { forEachWindow } from '../src/governance/scanner/passage.js';
import { readChunk } from '../src/governance/scanner/scan.js';
import { groupKeys, loadDevSet, sourceOf, type DevRow } from './scanner/dev-set.js';
import { buildTrainingSet, devExamples } from './scanner/training-set.js';

/** The best window of a text under a model: its logit, normalised text and dense features (for reading errors). */
function bestWindow(model: DirectiveModel, text: string): string {
  let best = { z: -Infinity, text: '', dense: [] as number[] };
  for (const { passage } of readChunk(text.slice(0, 65536), scoringWeights(model))) {
    forEachWindow(passage, (w) => {
      const z = windowLogit(model, passage, w);
      if (z > best.z) best = { z, text: passage.normalized.text.slice(passage.segments[w.first]!.start, passage.segments[w.last]!.end), dense: [...w.dense] };
    });
  }
  return `[${best.z.toFixed(2)} ${best.dense.map((d) => `${DENSE_FEATURES[d]}:${model.dense[d]!.toFixed(1)}`).join(',')}] ${JSON.stringify(best.text.slice(0, 200))}`;
}

const FOLDS = 5;
const foldOf = (key: string) => parseInt(createHash('sha256').update(`fold:${key}`).digest('hex').slice(0, 8), 16) % FOLDS;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function main(): void {
  const all = loadDevSet();
  const set = buildTrainingSet(all);
  const keys = groupKeys(all);
  const dev = set.devRows;
  const synthetic = set.examples.slice(dev.length);
  const only = process.env.CV_ORIGINAL_ONLY ? 1 : process.env.CV_FOLDS ? Number(process.env.CV_FOLDS) : FOLDS;
  const scores = new Map<string, number>();
  const explained = new Map<string, string>();
  for (let fold = 0; fold < only; fold++) {
    const inFold = (r: DevRow) => process.env.CV_ORIGINAL_ONLY !== undefined || foldOf(keys.get(r.id)!) === fold;
    // CV_ORIGINAL_ONLY=1: train on the original text alone (no dev rows): how far it carries to sources it never saw.
    const model = trainDirectiveModel(process.env.CV_ORIGINAL_ONLY ? synthetic : [...devExamples(dev.filter((r) => !inFold(r)), all), ...synthetic]);
    for (const row of dev.filter(inFold)) {
      scores.set(row.id, scanTextWithModel(model, row.text, { thresholds: { flag: 1, quarantine: 1, block: 1 } }).score);
      explained.set(row.id, bestWindow(model, row.text));
    }
    process.stderr.write(`fold ${fold + 1}/${only}\n`);
    if (fold === 0 && process.env.CV_DENSE) process.stderr.write(DENSE_FEATURES.map((f, i) => `${f}=${model.dense[i]!.toFixed(2)}`).join(' ') + ` bias=${model.bias.toFixed(2)}\n`);
  }
  const rows = dev.filter((r) => scores.has(r.id));
  const negatives = rows.filter((r) => r.label === 0).map((r) => scores.get(r.id)!).sort((a, b) => b - a);
  const report: string[] = [];
  // The fixed false-positive rates, then the shipped flag threshold (-1).
  for (const fpr of [0.0, 0.01, 0.015, 0.02, -1]) {
    const allowed = Math.floor(fpr * negatives.length);
    const threshold = fpr < 0 ? DEFAULT_THRESHOLDS.flag : (negatives[allowed] ?? 0) + 1e-6;
    const recallOf = (subset: DevRow[]) => { const p = subset.filter((r) => r.label === 1); return p.filter((r) => scores.get(r.id)! >= threshold).length / Math.max(1, p.length); };
    const fprOf = (subset: DevRow[]) => { const n = subset.filter((r) => r.label === 0); return n.filter((r) => scores.get(r.id)! >= threshold).length / Math.max(1, n.length); };
    const ds = rows.filter((r) => sourceOf(r) === 'deepset'), bp = rows.filter((r) => sourceOf(r) === 'bipia');
    report.push(`${fpr < 0 ? 'shipped flag threshold' : `FPR<=${pct(fpr)}`} (t=${threshold.toFixed(4)}): pooled recall ${pct(recallOf(rows))} fpr ${pct(fprOf(rows))} | deepset ${pct(recallOf(ds))}/${pct(fprOf(ds))} | bipia ${pct(recallOf(bp))}/${pct(fprOf(bp))}`);
    if (fpr === 0.02) {
      const cats = [...new Set(bp.filter((r) => r.label === 1).map((r) => r.category!))];
      report.push('  ' + cats.map((c) => `${c}: ${pct(recallOf(bp.filter((r) => r.category === c)))}`).join(', '));
      const lines: string[] = [];
      for (const r of rows) {
        const s = scores.get(r.id)!;
        if ((r.label === 1 && s < threshold) || (r.label === 0 && s >= threshold)) lines.push(`${r.label === 1 ? 'MISS' : 'FALSE'} ${s.toFixed(3)} ${r.id} ${r.category ?? ''} ${JSON.stringify(r.text.slice(0, 300))}\n    best window: ${explained.get(r.id)}`);
      }
      writeFileSync(process.env.CV_ERRORS ?? '/tmp/scanner-cv-errors.txt', lines.join('\n') + '\n');
    }
  }
  process.stdout.write(report.join('\n') + '\n');
}

main();
