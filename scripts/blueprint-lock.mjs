// Regenerates a blueprint's lockfile from its pinned packages: `node scripts/blueprint-lock.mjs NAME`.
// npm resolves the whole tree (without running any package's scripts) and the result is written to
// blueprints/NAME.lock.json; the pins' integrity must match what the registry says (dist.integrity),
// which the blueprint states, so a changed tarball is caught here and again by npm ci at provisioning.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  process.stderr.write('usage: node scripts/blueprint-lock.mjs NAME\n');
  process.exit(2);
}
const dir = path.resolve(import.meta.dirname, '..', 'blueprints');
const blueprint = parse(readFileSync(path.join(dir, `${name}.yaml`), 'utf8'));
const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-blueprint-lock-'));
try {
  const root = `warden-blueprint-${name}`;
  writeFileSync(path.join(temp, 'package.json'), JSON.stringify({
    name: root, private: true, dependencies: Object.fromEntries(blueprint.packages.map((p) => [p.name, p.version])),
  }, null, 2) + '\n');
  const npm = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', path.join(temp, '.cache')], { cwd: temp, stdio: 'inherit' });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
  const lock = JSON.parse(readFileSync(path.join(temp, 'package-lock.json'), 'utf8'));
  for (const pin of blueprint.packages) {
    const entry = lock.packages[`node_modules/${pin.name}`];
    if (entry?.version !== pin.version || entry.integrity !== pin.integrity) {
      process.stderr.write(`${pin.name}: the registry gives ${entry?.version} ${entry?.integrity}, the blueprint pins ${pin.version} ${pin.integrity}\n`);
      process.exit(1);
    }
  }
  writeFileSync(path.join(dir, `${name}.lock.json`), JSON.stringify(lock, null, 2) + '\n');
  process.stdout.write(`blueprints/${name}.lock.json: ${Object.keys(lock.packages).length - 1} packages\n`);
} finally {
  rmSync(temp, { recursive: true, force: true });
}
