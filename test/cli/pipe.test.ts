// A closed pipe ends warden's output quietly, as in every Unix tool (`warden preset list | head -1`):
// exit 0, nothing on stderr, never "This is a bug in warden".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { testEnv, WARDEN } from '../e2e/helpers.js';

/** Runs warden with a stdout whose reader has gone away before warden writes anything. */
function withClosedStdout(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [WARDEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

for (const args of [['preset', 'list'], ['doctor'], ['audit', 'verify'], ['--help'], ['policy', 'validate', '--help']]) {
  test(`warden ${args.join(' ')} with a closed stdout ends quietly with 0`, async () => {
    for (let i = 0; i < 3; i++) {
      const r = await withClosedStdout(args);
      assert.doesNotMatch(r.stderr, /bug in warden|EPIPE/, r.stderr);
      assert.equal(r.status, args[0] === 'doctor' ? r.status : 0, r.stderr);
    }
  });
}
