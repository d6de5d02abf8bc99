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
// Real agents (OpenClaw, Claude Code) provision from the registry the first time and then run
// model turns of many CPU-seconds each: they run after the rest, one at a time, with room for
// that, so they neither starve the other files nor hit the bound that catches a hung file.
const AGENT_FILES = /[\\/]e2e[\\/](openclaw|claude-code)\.test\.js$/;
const agents = files.filter((file) => AGENT_FILES.test(file));
const rest = files.filter((file) => !AGENT_FILES.test(file));
const run = (group, timeoutMs, concurrency) => group.length === 0 ? 0
  : spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...group], { stdio: 'inherit' }).status ?? 1;
const status = run(rest, 300_000, 2);
const agentStatus = run(agents, 1_800_000, 1);
process.exit(status !== 0 ? status : agentStatus);
