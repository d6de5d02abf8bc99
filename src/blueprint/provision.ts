// Provisioning: a blueprint's layer built from the npm registry, once, then reused.
//
// Security invariants:
// - No package code runs on the host. npm installs with --ignore-scripts, from a lockfile that
//   pins every package's tarball and integrity (npm ci refuses a tarball whose hash differs);
//   the blueprint's setup command, the only package code run while provisioning, runs inside a
//   sandbox with no network where only the new layer is writable.
// - Nothing is installed into the host's global paths: npm's prefix is the layer, its cache is
//   the layers directory's own.
// - A layer is used only once complete: it is built in a staging directory and renamed into place
//   after its manifest is written; an interrupted build leaves a staging directory, removed by the
//   next one (the tarballs already downloaded stay in the cache, so the rebuild does not fetch
//   them again).

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { defaultPolicy } from '../policy/index.js';
import { leaseRunUid, runInSandbox } from '../sandbox/index.js';
import { type Blueprint, BlueprintError, layerId, packagesForPlatform } from './schema.js';
import { checkLayer, ensureLayersDir, type Layer, type LayerManifest, MANIFEST_FILE, removeTree, treeBytes } from './layers.js';

export interface ProvisionOptions {
  /** WARDEN_HOME: the setup sandbox is recorded and leased there. */
  home: string;
  /** The layers directory (layersDir()). */
  dir: string;
  /** One line of progress at a time (stderr). */
  progress: (line: string) => void;
}

export interface Provisioned {
  layer: Layer;
  /** True when the layer was there already. */
  cached: boolean;
}

/** The host's npm, as a script run by a node binary (so that the layer's runtime can run it). */
export function findNpm(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const file = path.join(dir, 'npm');
    if (existsSync(file)) {
      try {
        candidates.push(realpathSync(file));
      } catch {
        // a dangling link: not npm
      }
    }
  }
  candidates.push(path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
  const cli = candidates.find((file) => file.endsWith(path.join('bin', 'npm-cli.js')) && existsSync(file));
  if (cli === undefined) {
    throw new BlueprintError('npm is not installed (warden provisions agents with the host\'s npm, into its own directory): install it (Debian/Ubuntu: apt-get install npm) and retry');
  }
  return cli;
}

/**
 * The blueprint's sealed layer: the cached one, or a new one built now. Concurrent callers for
 * the same layer wait for each other (a lock file naming the builder's pid).
 */
export async function provision(blueprint: Blueprint, options: ProvisionOptions): Promise<Provisioned> {
  const id = layerId(blueprint);
  const final = path.join(options.dir, id);
  const cached = tryLayer(final);
  if (cached) return { layer: cached, cached: true };
  ensureLayersDir(options.dir);
  const release = await takeLock(path.join(options.dir, `.lock-${id}`), (pid) => options.progress(`waiting for warden (pid ${pid}) to finish provisioning ${blueprint.name}`));
  try {
    const built = tryLayer(final);
    if (built) return { layer: built, cached: true };
    // Ours is the lock: any staging directory of this layer is left from an interrupted build.
    for (const entry of readdirSync(options.dir)) {
      if (entry.startsWith(`.staging-${id}-`)) removeTree(path.join(options.dir, entry));
    }
    if (existsSync(final)) removeTree(final); // a directory without a valid manifest: never used
    const staging = path.join(options.dir, `.staging-${id}-${process.pid}`);
    try {
      const layer = await build(blueprint, staging, final, options);
      return { layer, cached: false };
    } catch (error) {
      removeTree(staging);
      throw error;
    }
  } finally {
    release();
  }
}

function tryLayer(dir: string): Layer | undefined {
  try {
    return checkLayer(dir);
  } catch {
    return undefined;
  }
}

async function build(blueprint: Blueprint, staging: string, final: string, options: ProvisionOptions): Promise<Layer> {
  const started = Date.now();
  const say = (line: string) => options.progress(`${blueprint.name}: ${line}`);
  const pins = blueprint.packages.map((p) => `${p.name} ${p.version}`).join(', ');
  say(`provisioning ${pins}${blueprint.runtime ? ` on ${blueprint.runtime.name} ${blueprint.runtime.version}` : ''} into ${final} (once; later launches reuse it)`);
  mkdirSync(staging, { mode: 0o755 });
  const npm = findNpm();
  const cache = path.join(options.dir, '.npm-cache');
  mkdirSync(cache, { recursive: true, mode: 0o700 });
  let nodeBinary = process.execPath;
  if (blueprint.runtime) {
    const runtime = blueprint.runtime;
    const dir = path.join(staging, 'runtime');
    mkdirSync(dir);
    const name = `warden-runtime-${blueprint.name}`;
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, dependencies: { [runtime.name]: runtime.version } }, null, 2) + '\n');
    writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(runtimeLock(name, runtime), null, 2) + '\n');
    await npmCi(process.execPath, npm, dir, cache, 1, (n, total) => say(`runtime ${runtime.name} ${runtime.version}: ${n}/${total} package`), say);
    checkInstalled(dir, runtime.name, runtime.version);
    nodeBinary = path.join(dir, 'node_modules', runtime.name, runtime.bin, 'node');
    if (!existsSync(nodeBinary)) throw new BlueprintError(`${runtime.name} ${runtime.version} has no ${path.join(runtime.bin, 'node')}`);
  }
  const app = path.join(staging, 'app');
  mkdirSync(app);
  const rootName = (blueprint.lock as { name?: string }).name ?? `warden-blueprint-${blueprint.name}`;
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: rootName, private: true, dependencies: Object.fromEntries(blueprint.packages.map((p) => [p.name, p.version])),
  }, null, 2) + '\n');
  writeFileSync(path.join(app, 'package-lock.json'), readFileSync(path.join(path.dirname(blueprint.file), blueprint.lockfile)));
  const total = packagesForPlatform(blueprint.lock, blueprint.platform);
  // npm runs on the runtime's node when there is one: optional packages that need it (a native
  // build for Node >= 22) are then chosen for the node that will run them, not for warden's.
  const installed = await npmCi(nodeBinary, npm, app, cache, total, (n) => say(`${n}/${total} packages`), say);
  for (const pin of blueprint.packages) checkInstalled(app, pin.name, pin.version);
  if (blueprint.links) {
    const bin = path.join(staging, 'bin');
    mkdirSync(bin);
    for (const [name, target] of Object.entries(blueprint.links)) {
      if (!existsSync(path.join(app, target))) throw new BlueprintError(`${blueprint.file}: links.${name}: app/${target} is not in the installed packages`);
      symlinkSync(path.posix.join('..', 'app', target), path.join(bin, name));
    }
  }
  if (blueprint.setup) {
    say(`setup in a sandbox with no network: ${blueprint.setup.join(' ')}`);
    await runSetup(blueprint, staging, options.home);
  }
  seal(staging);
  const manifest: LayerManifest = {
    format: 1, id: path.basename(final), blueprint: blueprint.name, hash: blueprint.hash, mount: blueprint.mount,
    runtime: blueprint.runtime ? { name: blueprint.runtime.name, version: blueprint.runtime.version, integrity: blueprint.runtime.integrity } : null,
    packages: blueprint.packages.map((p) => ({ name: p.name, version: p.version, integrity: p.integrity })),
    installed: installed + (blueprint.runtime ? 1 : 0),
    bytes: treeBytes(staging),
    createdAt: new Date().toISOString(),
    tookMs: Date.now() - started,
  };
  writeFileSync(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o444 });
  renameSync(staging, final);
  say(`layer ready: ${manifest.installed} packages, ${Math.round(manifest.bytes / 1e6)} MB, in ${(manifest.tookMs / 1000).toFixed(1)} s`);
  return checkLayer(final);
}

/** The lockfile of the runtime alone (one tarball, pinned by the blueprint). */
function runtimeLock(name: string, runtime: NonNullable<Blueprint['runtime']>): object {
  const base = runtime.name.split('/').at(-1)!;
  return {
    name, lockfileVersion: 3, requires: true,
    packages: {
      '': { name, dependencies: { [runtime.name]: runtime.version } },
      [`node_modules/${runtime.name}`]: {
        version: runtime.version,
        resolved: `https://registry.npmjs.org/${runtime.name}/-/${base}-${runtime.version}.tgz`,
        integrity: runtime.integrity,
      },
    },
  };
}

/**
 * `npm ci` in `dir`: exactly the lockfile's packages, each tarball checked against its integrity,
 * no install scripts. Calls `counted` as tarballs are fetched or found in the cache. Returns how
 * many packages were added.
 */
function npmCi(node: string, npm: string, dir: string, cache: string, total: number, counted: (n: number, total: number) => void, say: (line: string) => void): Promise<number> {
  const args = [npm, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline', '--loglevel=http', '--no-progress', '--cache', cache];
  const child = spawn(node, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_ignore_scripts: 'true', npm_config_global: 'false', NO_UPDATE_NOTIFIER: '1' },
  });
  let seen = 0;
  let lastReport = 0;
  const tail: string[] = [];
  let added = 0;
  const onLine = (line: string) => {
    if (/^npm http (fetch GET 200|cache) \S*\.tgz/.test(line) || /^npm http cache \S+@\S+\.tgz/.test(line)) {
      seen++;
      if (Date.now() - lastReport > 1000 || seen === total) {
        lastReport = Date.now();
        counted(Math.min(seen, total), total);
      }
      return;
    }
    if (line.startsWith('npm http')) return;
    const match = /^added (\d+) packages?/.exec(line.trim());
    if (match) added = Number(match[1]);
    if (line.trim() !== '') tail.push(line);
    if (tail.length > 30) tail.shift();
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    });
    stream.on('end', () => {
      if (buffer !== '') onLine(buffer);
    });
  }
  const slow = setInterval(() => say(`npm is working (${seen}/${total} packages so far)`), 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearInterval(slow);
      reject(new BlueprintError(`cannot run npm (${node} ${npm}): ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearInterval(slow);
      if (code === 0) return resolve(added);
      const said = tail.join('\n');
      const offline = /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|network|ECONNRESET/i.test(said);
      reject(new BlueprintError(`npm ci failed (${signal ?? `exit ${code}`})${offline ? ': the npm registry could not be reached (check the network, or npm\'s proxy and registry settings)' : ''}. npm said:\n${said}`));
    });
  });
}

function checkInstalled(dir: string, name: string, version: string): void {
  let found: string | undefined;
  try {
    found = (JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    found = undefined;
  }
  if (found !== version) throw new BlueprintError(`npm installed ${name} ${found ?? '(nothing)'}, the blueprint pins ${version}`);
}

/**
 * Runs the blueprint's setup command in a sandbox: the default policy (system directories
 * read-only, no network), the staging layer writable at its mount point, a private home and /tmp.
 * As root, the sandbox's uid owns the staging layer while it runs and this user again afterwards.
 */
async function runSetup(blueprint: Blueprint, staging: string, home: string): Promise<void> {
  const lease = process.getuid?.() === 0 ? leaseRunUid(`setup-${blueprint.name}`) : undefined;
  const owner = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  let output = '';
  try {
    if (lease) chownTree(staging, lease.uid, lease.gid);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 300_000);
    let result;
    try {
      result = await runInSandbox({
        policy: defaultPolicy(),
        command: blueprint.setup!,
        name: `setup-${blueprint.name}`,
        wardenHome: home,
        ...(lease ? { hostIds: { uid: lease.uid, gid: lease.gid } } : {}),
        env: { ...blueprint.env, PATH: layerPath(blueprint) },
        binds: [{ source: staging, dest: blueprint.mount, writable: true }],
        warn: () => undefined,
        service: {
          stop: abort.signal,
          onStarted: (io) => {
            io.stdin.end();
            for (const stream of [io.stdout, io.stderr]) stream.setEncoding('utf8').on('data', (chunk: string) => { if (output.length < 16384) output += chunk; });
          },
        },
      });
    } finally {
      clearTimeout(timer);
    }
    if (result.exitCode !== 0) {
      throw new BlueprintError(`the setup command ${blueprint.setup!.join(' ')} failed in its sandbox (exit ${result.exitCode}):\n${output.trim().split('\n').slice(-20).join('\n')}`);
    }
  } finally {
    if (lease) {
      chownTree(staging, owner.uid, owner.gid);
      lease.release();
    }
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  const result = spawnSync('chown', ['-R', '--no-dereference', `${uid}:${gid}`, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new BlueprintError(`chown -R ${uid}:${gid} ${dir} failed: ${result.stderr || result.error?.message}`);
}

/** Takes write permission away from every file of the layer (its directories stay removable by the owner). */
function seal(dir: string): void {
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        chmodSync(full, 0o755);
        stack.push(full);
      } else {
        const mode = lstatSync(full).mode & 0o777;
        chmodSync(full, (mode & 0o555) | 0o444);
      }
    }
  }
  chmodSync(dir, 0o755);
}

/** PATH inside a sandbox of the blueprint: the runtime, the layer's links, its packages' bins, the system. */
export function layerPath(blueprint: Pick<Blueprint, 'mount' | 'runtime' | 'links'>): string {
  return [
    ...(blueprint.runtime ? [path.posix.join(blueprint.mount, 'runtime', 'node_modules', blueprint.runtime.name, blueprint.runtime.bin)] : []),
    ...(blueprint.links ? [path.posix.join(blueprint.mount, 'bin')] : []),
    path.posix.join(blueprint.mount, 'app', 'node_modules', '.bin'),
    '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ].join(':');
}

/** A lock file naming its holder's pid; one left by a process that is gone is taken over. */
async function takeLock(file: string, waiting: (pid: number) => void): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let pid: number;
    let age: number;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
      age = Date.now() - statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // An empty lock was just created (its pid is being written): wait for it, do not take it.
    const written = Number.isInteger(pid) && pid > 0;
    if ((written && !alive(pid)) || (!written && age > 5_000)) {
      rmSync(file, { force: true });
      continue;
    }
    if (!told && written) waiting(pid);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
