import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { findLandlockHelper, findTool, probeLandlockAbi, resolveSandboxUser, SANDBOX_ACCOUNT } from '../sandbox/index.js';
import { wardenHome } from '../store/index.js';
import { printLine } from './output.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails. */
  fix?: string;
}

/** `warden doctor`: every prerequisite of a sandbox, each with a fix when it is missing. */
export function doctorCommand(opts: { json: boolean }): number {
  const checks = [
    toolCheck('bwrap', 'bubblewrap'),
    toolCheck('prlimit', 'util-linux'),
    toolCheck('nsenter', 'util-linux'),
    userNamespaceCheck(),
    sandboxUserCheck(),
    sandboxCheck(),
    landlockCheck(),
    homeCheck(),
  ];
  if (opts.json) {
    printLine(1, JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2));
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

function sandboxUserCheck(): Check {
  const user = resolveSandboxUser({});
  if (!user.dropsPrivileges) return { name: 'sandbox uid', ok: true, detail: `sandboxes run as your uid ${user.uid}` };
  const named = spawnSync('getent', ['passwd', SANDBOX_ACCOUNT]).status === 0;
  return {
    name: 'sandbox uid', ok: true,
    detail: `warden runs as root; sandboxes run as uid ${user.uid}:${user.gid}${named ? ` (${SANDBOX_ACCOUNT})` : ' (no warden-sandbox account: using nobody)'}`,
  };
}

/** A real sandbox: namespaces, seccomp and no_new_privs as the kernel reports them. */
function sandboxCheck(): Check {
  const name = 'sandbox + seccomp';
  try {
    // The same path a user takes: this very CLI, `warden run`, with the default policy.
    const probe = spawnSync(process.execPath, [process.argv[1] ?? '', 'run', '--', 'sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status'],
      { encoding: 'utf8', timeout: 15_000 });
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

function homeCheck(): Check {
  const home = wardenHome();
  try {
    const mode = statSync(home).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      return { name: 'WARDEN_HOME', ok: false, detail: `${home} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 700 ${home}` };
    }
    return { name: 'WARDEN_HOME', ok: true, detail: `${home} (mode ${mode.toString(8)})` };
  } catch {
    return { name: 'WARDEN_HOME', ok: true, detail: `${home} (not created yet)` };
  }
}
