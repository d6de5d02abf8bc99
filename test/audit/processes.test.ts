// Several processes writing one log, and a writer killed with SIGKILL mid-stream.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { appendAudit, verifyAudit } from '../../src/audit/index.js';
import { openStore } from '../../src/store/index.js';
import { tempHome } from '../store/helpers.js';
import { waitFor } from '../wait.js';

const CHILD = new URL('./fixtures/append-child.js', import.meta.url).pathname;

function startChild(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, exit };
}

/** Seqs a child reported as committed; a torn last line (no newline yet) is not a report. */
function committedSeqs(file: string): number[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map(Number);
}

describe('audit log shared by processes', () => {
  test('two processes creating the store and appending at the same moment: no seq lost or duplicated, the chain verifies', async () => {
    // Not opened here first: both children create WARDEN_HOME and migrate the schema at once.
    const home = tempHome('audit-race');
    const per = 400;
    const outs = ['a', 'b'].map((name) => path.join(path.dirname(home), `${name}.seqs`));
    const children = outs.map((out, i) => startChild(['race', home, out, `writer-${i}`, String(per)]));
    const exited: string[] = [];
    children.forEach(({ exit }, i) => exit.then(({ code, stderr }) => exited.push(`writer-${i} exited with ${code}: ${stderr}`)));
    try {
      await waitFor(() => {
        if (exited.length > 0 && !outs.every((out) => fs.existsSync(`${out}.ready`))) throw new Error(exited.join('\n'));
        return outs.every((out) => fs.existsSync(`${out}.ready`));
      }, 'both writers ready', 5);
      for (const out of outs) fs.writeFileSync(`${out}.go`, '');
      for (const { exit } of children) {
        const { code, stderr } = await exit;
        assert.equal(code, 0, stderr);
      }
    } finally {
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    const [a, b] = outs.map(committedSeqs) as [number[], number[]];
    assert.equal(a.length, per);
    assert.equal(b.length, per);
    const all = [...a, ...b].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 2 * per }, (_, i) => i + 1), 'every seq exactly once');
    // They really interleaved (otherwise this test would not test concurrency).
    const aSet = new Set(a);
    const switches = all.filter((seq, i) => i > 0 && aSet.has(seq) !== aSet.has(all[i - 1]!)).length;
    assert.ok(switches > 2, `writers interleaved ${switches} times`);

    const store = openStore(home);
    try {
      assert.deepEqual(verifyAudit(store), { ok: true, records: 2 * per });
      const rows = store.auditRows.page(0, 2 * per);
      for (const row of rows) {
        const owner = aSet.has(row.seq) ? 'writer-0' : 'writer-1';
        assert.equal(row.actor, owner, `record ${row.seq} belongs to the writer that reported it`);
      }
    } finally {
      store.close();
    }
  });

  test('a writer killed with SIGKILL mid-stream loses no record it reported committed; the chain verifies and grows', async () => {
    const home = tempHome('audit-kill');
    openStore(home).close();
    for (const round of [1, 2]) {
      const out = path.join(path.dirname(home), `kill-${round}.seqs`);
      const { child, exit } = startChild(['loop', home, out, `killed-${round}`]);
      try {
        await waitFor(() => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the writer ended before it was killed (${child.exitCode ?? child.signalCode})`);
          return committedSeqs(out).length >= 300;
        }, 'records to be committed', 5);
        // The sleep is the point here, not a synchronisation: the kill lands at a random moment of
        // the stream (mid-transaction, mid-report...), which is what this test is about.
        await sleep(Math.floor(Math.random() * 20));
      } finally {
        child.kill('SIGKILL');
      }
      const { signal } = await exit;
      assert.equal(signal, 'SIGKILL');

      const reported = committedSeqs(out);
      const store = openStore(home);
      try {
        const result = verifyAudit(store);
        assert.equal(result.ok, true, JSON.stringify(result.firstBroken));
        const highest = Math.max(...reported);
        assert.ok(result.records >= highest, `log has ${result.records} records, child reported ${highest}`);
        const present = new Map(store.auditRows.page(0, result.records).map((row) => [row.seq, row]));
        for (const seq of reported) {
          assert.equal(present.get(seq)?.actor, `killed-${round}`, `reported record ${seq} is present`);
        }
        // The log accepts new records after the crash.
        appendAudit(store, { kind: 'test.after_crash', payload: { round } });
        assert.deepEqual(verifyAudit(store), { ok: true, records: result.records + 1 });
      } finally {
        store.close();
      }
    }
  });
});
