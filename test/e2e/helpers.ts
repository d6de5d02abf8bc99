import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/e2e). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WARDEN = path.join(REPO_ROOT, 'bin', 'warden.js');
export const IS_ROOT = process.getuid?.() === 0;
export const HAS_BWRAP = spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).status === 0;
export const SKIP_NO_BWRAP = HAS_BWRAP ? false : 'bubblewrap is not installed';
export const SKIP_NOT_ROOT = IS_ROOT ? false : 'needs root (as in CI): compares with what host root can do';

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function toResult(r: SpawnSyncReturns<string>): Result {
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs the warden CLI to completion. */
export function warden(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Result {
  return toResult(spawnSync(process.execPath, [WARDEN, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 30_000,
  }));
}

/** Runs `sh -c script` in a sandbox with the given extra warden options. */
export function inSandbox(script: string, wardenOptions: string[] = [], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Result {
  return warden(['run', ...wardenOptions, '--', 'sh', '-c', script], opts);
}

/** Runs `sh -c script` on the host, as the host uid sandboxes run as (root in CI drops to it). */
export function onHostAsSandboxUser(script: string): Result {
  const { uid, gid } = sandboxHostIds();
  const argv = IS_ROOT
    ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'sh', '-c', script]
    : ['sh', '-c', script];
  return toResult(spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 }));
}

/** Runs `sh -c script` on the host as the current user (root in CI). */
export function onHost(script: string): Result {
  return toResult(spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 30_000 }));
}

/** The uid/gid warden uses for sandboxes, asked from a real sandbox. */
let ids: { uid: number; gid: number } | undefined;
export function sandboxHostIds(): { uid: number; gid: number } {
  if (ids) return ids;
  const r = warden(['run', '--', 'sh', '-c', 'id -u; id -g']);
  const [uid, gid] = r.stdout.trim().split('\n').map(Number);
  if (r.status !== 0 || uid === undefined || gid === undefined) throw new Error(`cannot learn the sandbox uid: ${r.stderr}`);
  ids = { uid, gid };
  return ids;
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix: string, parent = os.tmpdir()): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(parent, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writePolicy(dir: string, yaml: string, name = 'policy.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Starts warden in the background without blocking this process's event loop (needed for
 * signal tests, and whenever the test itself serves what the sandbox talks to).
 */
export function wardenAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { pid: number; done: Promise<Result>; stdout: () => string } {
  const child = spawn(process.execPath, [WARDEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<Result>((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  return { pid: child.pid ?? -1, done, stdout: () => stdout };
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}

