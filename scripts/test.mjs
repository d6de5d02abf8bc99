// Runs the compiled test files with node's built-in runner: `unit`, `e2e`, or (default) all.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const which = process.argv[2] ?? 'all';
const root = path.resolve('dist/test');

function collect(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return collect(full);
    return entry.endsWith('.test.js') ? [full] : [];
  });
}

const files = collect(root).filter((file) => {
  const isE2e = file.includes(`${path.sep}e2e${path.sep}`);
  return which === 'all' || (which === 'e2e') === isE2e;
}).sort();
if (files.length === 0) {
  process.stderr.write(`no test files found under ${root}\n`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
