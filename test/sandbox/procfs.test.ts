import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { childrenOf, readProcStat } from '../../src/sandbox/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'warden-procfs-'));
after(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(pid: number, stat: string, children?: string): void {
  mkdirSync(path.join(root, String(pid), 'task', String(pid)), { recursive: true });
  writeFileSync(path.join(root, String(pid), 'stat'), stat);
  if (children !== undefined) writeFileSync(path.join(root, String(pid), 'task', String(pid), 'children'), children);
}

test('stat fields are counted from the last ")": a command name with spaces and parentheses cannot shift them', () => {
  const tail = 'S 41 40 40 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200';
  fakeProcess(101, `101 (sh) ${tail}\n`);
  // An agent can name its process "x) R 1 1 1" to fake the fields after the name.
  fakeProcess(102, `102 (x) R 1 1 1 (evil)) ${tail}\n`);
  for (const pid of [101, 102]) assert.deepEqual(readProcStat(pid, root), { ppid: 41, pgrp: 40, startTime: '987654' }, `pid ${pid}`);
  assert.equal(readProcStat(999, root), undefined, 'a process that is gone');
  fakeProcess(103, '103 no parenthesis here\n');
  assert.equal(readProcStat(103, root), undefined);
});

test('children of a process, and none for one that is gone', () => {
  fakeProcess(200, '200 (init) S 1 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n', '201 202 \n');
  assert.deepEqual(childrenOf(200, root), [201, 202]);
  assert.deepEqual(childrenOf(999, root), []);
  assert.deepEqual(childrenOf(process.pid).every((pid) => Number.isInteger(pid)), true, 'the real /proc');
});
