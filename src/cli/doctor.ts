import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCgroups, findLandlockHelper, findNativeHelper, findTool, peerCredentials, probeLandlockAbi, uidRange } from '../sandbox/index.js';
import { homeModeFix, homeModeProblem, wardenHome } from '../store/index.js';
import { printJsonResult, printLine } from './output.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails. */
  fix?: string;
}

/** `warden doctor`: every prerequisite of a sandbox, each with a fix when it is missing. */
export async function doctorCommand(opts: { json: boolean }): Promise<number> {
  const checks = [
    toolCheck('bwrap', 'bubblewrap'),
    toolCheck('nsenter', 'util-linux'),
    nativeCheck(),
    userNamespaceCheck(),
    sandboxUserCheck(),
    cgroupCheck(),
    sandboxCheck(),
    landlockCheck(),
    homeCheck(),
    await auditCheck(),
  ];
  if (opts.json) {
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    printJsonResult({ checks }, failed.length === 0 ? undefined : { code: 'checks_failed', message: `failed: ${failed.join(', ')} (each check has its fix)` });
  } else {
    for (const c of checks) {
      printLine(1, `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
      if (!c.ok && c.fix) printLine(1, `      fix: ${c.fix}`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}

function toolCheck(tool: string, pkg: string): Check {
  try {
    return { name: tool, ok: true, detail: findTool(tool, pkg) };
  } catch {
    return { name: tool, ok: false, detail: 'not installed', fix: `sudo apt-get install -y ${pkg}` };
  }
}

function userNamespaceCheck(): Check {
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { timeout: 5000 });
  if (probe.status === 0) return { name: 'user namespaces', ok: true, detail: 'available' };
  return {
    name: 'user namespaces', ok: false, detail: 'cannot create a user namespace',
    fix: 'enable them: sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or user.max_user_namespaces=15000; on Ubuntu 24.04+ allow bwrap in AppArmor',
  };
}

function nativeCheck(): Check {
  const missing = (['sandbox-exec', 'supervisor', 'idmap-mount', 'landlock-exec', 'netns-enter'] as const).filter((name) => findNativeHelper(name) === undefined);
  let addon = true;
  try {
    peerCredentials(-1);
  } catch (error) {
    addon = !/cannot be loaded/.test((error as Error).message);
  }
  if (!addon) missing.push('host.node' as never);
  return missing.length === 0
    ? { name: 'native helpers', ok: true, detail: 'sandbox-exec, supervisor, idmap-mount, landlock-exec, netns-enter and host.node are built' }
    : { name: 'native helpers', ok: false, detail: `not built: ${missing.join(', ')} (sandboxes cannot start without sandbox-exec)`, fix: 'apt-get install -y gcc libc6-dev libnode-dev, then npm run build' };
}

/** As root every sandbox gets a uid of its own from a reserved range, which no account may use. */
function sandboxUserCheck(): Check {
  if (process.getuid?.() !== 0) return { name: 'sandbox uid', ok: true, detail: `warden does not run as root: sandboxes run as your uid ${process.getuid?.() ?? '?'}` };
  let range: ReturnType<typeof uidRange>;
  try {
    range = uidRange();
  } catch (error) {
    return { name: 'sandbox uid', ok: false, detail: (error as Error).message, fix: 'unset WARDEN_UID_BASE or give a free range' };
  }
  const end = range.base + range.size - 1;
  const clashes = ['/etc/passwd', '/etc/group', '/etc/subuid', '/etc/subgid'].flatMap((file) => idsIn(file)
    .filter(({ first, last }) => first <= end && last >= range.base)
    .map(({ entry }) => `${file}: ${entry}`));
  if (clashes.length > 0) {
    return { name: 'sandbox uid', ok: false, detail: `the sandbox uid range ${range.base}-${end} overlaps ${clashes.slice(0, 3).join('; ')}`, fix: 'set WARDEN_UID_BASE to a free range of 65536 ids' };
  }
  return { name: 'sandbox uid', ok: true, detail: `warden runs as root; each sandbox runs as a uid of its own from ${range.base}-${end} (no account uses them)` };
}

/** Ids (or id ranges, for subuid/subgid) that accounts and user namespaces on this host use. */
function idsIn(file: string): Array<{ entry: string; first: number; last: number }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).flatMap((line) => {
    const fields = line.split(':');
    if (file.includes('sub')) {
      const first = Number(fields[1]);
      const count = Number(fields[2]);
      return Number.isFinite(first) && Number.isFinite(count) ? [{ entry: fields[0] ?? '', first, last: first + count - 1 }] : [];
    }
    const id = Number(fields[2]);
    return Number.isFinite(id) ? [{ entry: fields[0] ?? '', first: id, last: id }] : [];
  });
}

function cgroupCheck(): Check {
  const support = detectCgroups();
  if (support.kind === 'none') {
    return { name: 'cgroups', ok: false, detail: `no memory, CPU or process-count limits for sandboxes: ${support.reason}`, fix: 'run warden as root, or as a user with a delegated cgroup v2 subtree (systemd: Delegate=yes)' };
  }
  return { name: 'cgroups', ok: true, detail: support.kind === 'v2' ? `cgroup v2 under ${support.parent}` : `cgroup v1 controllers memory, pids, cpu (under ${support.parents.memory})` };
}

/** A real sandbox: namespaces, seccomp and no_new_privs as the kernel reports them. */
function sandboxCheck(): Check {
  const name = 'sandbox + seccomp';
  try {
    // The same path a user takes: this very CLI, `warden run`, with the default policy. Its own
    // WARDEN_HOME, so the probe leaves no record in (and makes no change to) the user's.
    const probeHome = mkdtempSync(path.join(os.tmpdir(), 'warden-doctor-probe-'));
    const probe = spawnSync(process.execPath, [process.argv[1] ?? '', 'run', '--', 'sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status'],
      { encoding: 'utf8', timeout: 15_000, env: { ...process.env, WARDEN_HOME: probeHome } });
    rmSync(probeHome, { recursive: true, force: true });
    const output = probe.stdout;
    const seccomp = /Seccomp:\s+2/.test(output);
    const nnp = /NoNewPrivs:\s+1/.test(output);
    const caps = /CapEff:\s+0{16}/.test(output);
    if (probe.status === 0 && seccomp && nnp && caps) return { name, ok: true, detail: 'a test sandbox started with seccomp filtering, no_new_privs and no capabilities' };
    return { name, ok: false, detail: `a test sandbox failed: ${(probe.stderr || output).trim().split('\n')[0] ?? 'no output'}`, fix: 'see the message; `warden run -- true` shows the full error' };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message };
  }
}

function landlockCheck(): Check {
  const helper = findLandlockHelper();
  if (!helper) {
    return { name: 'landlock', ok: false, detail: 'the Landlock helper is not built', fix: 'apt-get install -y gcc libc6-dev, then npm run build' };
  }
  const abi = probeLandlockAbi(helper);
  return abi === undefined
    ? { name: 'landlock', ok: false, detail: 'this kernel does not provide Landlock (policies with hard_requirement will refuse to start)', fix: 'use Linux 5.13+ with landlock in the lsm= boot parameter' }
    : { name: 'landlock', ok: true, detail: `ABI ${abi}` };
}

/** The audit log can take records (no record, no action), and the gateway reports no fault. */
async function auditCheck(): Promise<Check> {
  const home = wardenHome();
  const name = 'audit log';
  const fix = 'run `warden audit verify` to see what changed; a log changed outside warden cannot be appended to until the operator decides';
  const { existsSync } = await import('node:fs');
  const { DATABASE_FILE } = await import('../store/index.js');
  if (!existsSync(`${home}/${DATABASE_FILE}`)) return { name, ok: true, detail: 'no log yet' };
  const { openStore } = await import('../store/index.js');
  const { auditTipProblem } = await import('../audit/index.js');
  const store = openStore(home);
  let problem: string | undefined;
  try {
    problem = auditTipProblem(store);
  } finally {
    store.close();
  }
  if (problem) return { name, ok: false, detail: problem, fix };
  const { gatewayRunning, callGateway } = await import('../gateway/index.js');
  if (await gatewayRunning(home)) {
    const status = await callGateway(home, 'ping', {}, { autoStart: false }) as { auditFault?: string };
    if (status.auditFault) return { name, ok: false, detail: `the gateway reports: ${status.auditFault}`, fix };
  }
  return { name, ok: true, detail: 'records can be appended' };
}

/** WARDEN_HOME's mode, by the one rule the store and the gateway apply (src/store/home-mode.ts). */
function homeCheck(): Check {
  const home = wardenHome();
  try {
    const mode = statSync(home).mode & 0o777;
    const problem = homeModeProblem(mode);
    if (problem !== undefined) return { name: 'WARDEN_HOME', ok: false, detail: `${home} is ${problem}`, fix: homeModeFix(home) };
    return { name: 'WARDEN_HOME', ok: true, detail: `${home} (mode ${mode.toString(8)})` };
  } catch {
    return { name: 'WARDEN_HOME', ok: true, detail: `${home} (not created yet)` };
  }
}
