import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  SECCOMP_GLOBAL_RULES,
  SECCOMP_RULES,
  buildSeccompFilter,
  hostSeccompArch,
  type SeccompArch,
} from '../../src/sandbox/seccomp.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64, syscallNumber, syscallTable } from '../../src/sandbox/syscalls.js';
import { decodeProgram, runSeccompFilter } from './bpf-interpreter.js';

// Kernel constants, written out here independently of the code under test.
const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;
const X32_BIT = 0x40000000;
const ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];

type Verdict = 'ALLOW' | 'KILL_PROCESS' | 'EPERM' | 'ENOSYS' | string;
function verdictName(ret: number): Verdict {
  if (ret === 0x7fff0000) return 'ALLOW';
  if (ret === 0x80000000) return 'KILL_PROCESS';
  if (ret === (0x00050000 | 1)) return 'EPERM';
  if (ret === (0x00050000 | 38)) return 'ENOSYS';
  return `0x${ret.toString(16)}`;
}

/**
 * Syscall numbers from the kernel tables (arch/x86/entry/syscalls/syscall_64.tbl and the
 * asm-generic table arm64 uses), kept here so a wrong number in src/ cannot hide behind itself.
 */
const NR: Record<string, Partial<Record<SeccompArch, number>>> = {
  read: { x86_64: 0, aarch64: 63 },
  write: { x86_64: 1, aarch64: 64 },
  openat: { x86_64: 257, aarch64: 56 },
  execve: { x86_64: 59, aarch64: 221 },
  ioctl: { x86_64: 16, aarch64: 29 },
  socket: { x86_64: 41, aarch64: 198 },
  socketpair: { x86_64: 53, aarch64: 199 },
  clone: { x86_64: 56, aarch64: 220 },
  clone3: { x86_64: 435, aarch64: 435 },
  unshare: { x86_64: 272, aarch64: 97 },
  personality: { x86_64: 135, aarch64: 92 },
  ptrace: { x86_64: 101, aarch64: 117 },
  process_vm_readv: { x86_64: 310, aarch64: 270 },
  process_vm_writev: { x86_64: 311, aarch64: 271 },
  bpf: { x86_64: 321, aarch64: 280 },
  perf_event_open: { x86_64: 298, aarch64: 241 },
  userfaultfd: { x86_64: 323, aarch64: 282 },
  mount: { x86_64: 165, aarch64: 40 },
  umount2: { x86_64: 166, aarch64: 39 },
  pivot_root: { x86_64: 155, aarch64: 41 },
  setns: { x86_64: 308, aarch64: 268 },
  chroot: { x86_64: 161, aarch64: 51 },
  open_tree: { x86_64: 428, aarch64: 428 },
  move_mount: { x86_64: 429, aarch64: 429 },
  fsopen: { x86_64: 430, aarch64: 430 },
  fsconfig: { x86_64: 431, aarch64: 431 },
  fsmount: { x86_64: 432, aarch64: 432 },
  fspick: { x86_64: 433, aarch64: 433 },
  mount_setattr: { x86_64: 442, aarch64: 442 },
  open_tree_attr: { x86_64: 467, aarch64: 467 },
  kexec_load: { x86_64: 246, aarch64: 104 },
  kexec_file_load: { x86_64: 320, aarch64: 294 },
  init_module: { x86_64: 175, aarch64: 105 },
  finit_module: { x86_64: 313, aarch64: 273 },
  delete_module: { x86_64: 176, aarch64: 106 },
  keyctl: { x86_64: 250, aarch64: 219 },
  add_key: { x86_64: 248, aarch64: 217 },
  request_key: { x86_64: 249, aarch64: 218 },
  io_uring_setup: { x86_64: 425, aarch64: 425 },
  io_uring_enter: { x86_64: 426, aarch64: 426 },
  io_uring_register: { x86_64: 427, aarch64: 427 },
  open_by_handle_at: { x86_64: 304, aarch64: 265 },
  name_to_handle_at: { x86_64: 303, aarch64: 264 },
  acct: { x86_64: 163, aarch64: 89 },
  swapon: { x86_64: 167, aarch64: 224 },
  swapoff: { x86_64: 168, aarch64: 225 },
  reboot: { x86_64: 169, aarch64: 142 },
  syslog: { x86_64: 103, aarch64: 116 },
  quotactl: { x86_64: 179, aarch64: 60 },
  lookup_dcookie: { x86_64: 212, aarch64: 18 },
  kcmp: { x86_64: 312, aarch64: 272 },
  settimeofday: { x86_64: 164, aarch64: 170 },
  clock_settime: { x86_64: 227, aarch64: 112 },
  clock_adjtime: { x86_64: 305, aarch64: 266 },
  adjtimex: { x86_64: 159, aarch64: 171 },
  uselib: { x86_64: 134 },
  iopl: { x86_64: 172 },
  ioperm: { x86_64: 173 },
  modify_ldt: { x86_64: 154 },
};

const ALWAYS_EPERM = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'bpf', 'perf_event_open', 'userfaultfd',
  'mount', 'umount2', 'pivot_root', 'setns', 'chroot',
  'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr', 'open_tree_attr',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
  'keyctl', 'add_key', 'request_key', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'open_by_handle_at', 'name_to_handle_at', 'acct', 'swapon', 'swapoff', 'reboot', 'syslog', 'quotactl',
  'lookup_dcookie', 'kcmp', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex',
];
const X86_ONLY_EPERM = ['uselib', 'iopl', 'ioperm', 'modify_ldt'];

const programs: Record<SeccompArch, Buffer> = {
  x86_64: buildSeccompFilter('x86_64'),
  aarch64: buildSeccompFilter('aarch64'),
};

function nr(arch: SeccompArch, name: string): number {
  const value = NR[name]?.[arch];
  if (value === undefined) throw new Error(`test table has no ${name} on ${arch}`);
  return value;
}

function verdict(arch: SeccompArch, syscall: number, args: readonly (bigint | number)[] = [], auditArch: number = AUDIT_ARCH[arch]): Verdict {
  return verdictName(runSeccompFilter(programs[arch], { nr: syscall, arch: auditArch, args }));
}

function call(arch: SeccompArch, name: string, ...args: (bigint | number)[]): Verdict {
  return verdict(arch, nr(arch, name), args);
}

// linux/sched.h
const CLONE = {
  VM: 0x100, FS: 0x200, FILES: 0x400, SIGHAND: 0x800, THREAD: 0x10000, SYSVSEM: 0x40000,
  SETTLS: 0x80000, PARENT_SETTID: 0x100000, CHILD_CLEARTID: 0x200000,
  NEWTIME: 0x80, NEWNS: 0x20000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
};
const NAMESPACE_FLAGS = ['NEWTIME', 'NEWNS', 'NEWCGROUP', 'NEWUTS', 'NEWIPC', 'NEWUSER', 'NEWPID', 'NEWNET'] as const;
const SIGCHLD = 17;
const PTHREAD_CLONE_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM
  | CLONE.SETTLS | CLONE.PARENT_SETTID | CLONE.CHILD_CLEARTID;
const HIGH = 1n << 32n;

const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, TIPC: 30, BLUETOOTH: 31, ALG: 38, VSOCK: 40 };
const SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, SEQPACKET: 5, PACKET: 10, NONBLOCK: 0x800, CLOEXEC: 0x80000 };
const NETLINK = { ROUTE: 0, SOCK_DIAG: 4, AUDIT: 9, KOBJECT_UEVENT: 15 };

describe('seccomp filter: syscall tables', () => {
  test('src tables agree with the independently written kernel numbers', () => {
    for (const [name, byArch] of Object.entries(NR)) {
      for (const arch of ARCHES) {
        assert.equal(syscallNumber(arch, name), byArch[arch], `${name} on ${arch}`);
      }
    }
  });

  test('numbers are unique within each table', () => {
    for (const arch of ARCHES) {
      const seen = new Map<number, string>();
      for (const [name, value] of Object.entries(syscallTable(arch))) {
        assert.ok(Number.isInteger(value) && value >= 0, `${arch} ${name}`);
        assert.equal(seen.get(value), undefined, `${arch}: ${name} and ${seen.get(value)} share ${value}`);
        seen.set(value, name);
      }
    }
  });

  test('legacy calls missing from the asm-generic table are missing on aarch64', () => {
    for (const name of ['open', 'stat', 'fork', 'vfork', 'pipe', 'poll', 'select', 'uselib', 'iopl', 'ioperm', 'modify_ldt', 'vm86']) {
      assert.equal(syscallNumber('aarch64', name), undefined, name);
    }
    assert.equal(syscallNumber('x86_64', 'vm86'), undefined, 'vm86 is i386-only');
  });

  const x86Header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  test('x86_64 table matches the installed kernel headers', { skip: !fs.existsSync(x86Header) && `${x86Header} not installed` }, () => {
    const defines = [...fs.readFileSync(x86Header, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)];
    assert.ok(defines.length > 300);
    for (const [, name, value] of defines) assert.equal(SYSCALLS_X86_64[name!], Number(value), name);
  });

  const genericHeader = '/usr/include/asm-generic/unistd.h';
  test('aarch64 table agrees with the installed asm-generic header', { skip: !fs.existsSync(genericHeader) && `${genericHeader} not installed` }, () => {
    const defines = [...fs.readFileSync(genericHeader, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)];
    let compared = 0;
    for (const [, name, value] of defines) {
      if (SYSCALLS_AARCH64[name!] === undefined) continue;
      assert.equal(SYSCALLS_AARCH64[name!], Number(value), name);
      compared += 1;
    }
    assert.ok(compared > 250, `only ${compared} names compared`);
  });
});

describe('seccomp filter: program shape', () => {
  for (const arch of ARCHES) {
    test(`${arch}: valid for the kernel loader, first instruction is ld [4] (arch)`, () => {
      const program = programs[arch];
      assert.equal(program.length % 8, 0);
      const code = decodeProgram(program); // throws on anything the kernel would refuse
      assert.deepEqual([...program.subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0]);
      assert.deepEqual(code[1], { code: 0x15, jt: code[1]?.jt, jf: code[1]?.jf, k: AUDIT_ARCH[arch] });
      assert.equal(code.at(-1)?.code, 0x06, 'ends with ret');
    });

    test(`${arch}: well under the 4096-instruction limit`, () => {
      const count = programs[arch].length / 8;
      assert.ok(count < 4096);
      assert.ok(count <= 256, `${count} instructions: the filter runs on hot syscalls, keep it small`);
    });
  }

  test('building is deterministic and refuses unknown architectures', () => {
    assert.deepEqual(buildSeccompFilter('x86_64'), programs.x86_64);
    assert.notDeepEqual(programs.x86_64, programs.aarch64);
    assert.throws(() => buildSeccompFilter('riscv64' as SeccompArch), /unsupported architecture/);
  });
});

describe('seccomp filter: architecture checks', () => {
  for (const arch of ARCHES) {
    test(`${arch}: any other audit arch is killed, even for read`, () => {
      const other = arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
      for (const foreign of [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, other, 0, 0xffffffff]) {
        assert.equal(verdict(arch, nr(arch, 'read'), [], foreign), 'KILL_PROCESS', `arch 0x${foreign.toString(16)}`);
      }
      assert.equal(call(arch, 'read'), 'ALLOW');
    });
  }

  test('x86_64: x32 syscalls are refused with EPERM', () => {
    for (const x32 of [X32_BIT | 0, X32_BIT | 101, X32_BIT | 521, X32_BIT | 547]) {
      assert.equal(verdict('x86_64', x32), 'EPERM', `nr 0x${x32.toString(16)}`);
    }
  });

  for (const arch of ARCHES) {
    test(`${arch}: numbers above the table get ENOSYS, the highest known does not`, () => {
      const highest = Math.max(...Object.values(syscallTable(arch)));
      assert.ok(highest >= 469);
      assert.equal(verdict(arch, highest), 'ALLOW');
      for (const unknown of [highest + 1, 1000, 0x3fffffff]) {
        assert.equal(verdict(arch, unknown), 'ENOSYS', `nr ${unknown}`);
      }
      // nr -1 carries the x32 bit, which x86_64 checks first.
      assert.equal(verdict(arch, 0xffffffff), arch === 'x86_64' ? 'EPERM' : 'ENOSYS');
    });
  }
});

describe('seccomp filter: unconditional refusals', () => {
  for (const arch of ARCHES) {
    test(`${arch}: dangerous syscalls get EPERM whatever their arguments`, () => {
      for (const name of ALWAYS_EPERM) {
        assert.equal(call(arch, name), 'EPERM', name);
        assert.equal(call(arch, name, 0xffffffffn, 1, 2, 3, 4, 5), 'EPERM', `${name} with args`);
      }
    });

    test(`${arch}: clone3 gets ENOSYS so libc falls back to clone`, () => {
      assert.equal(call(arch, 'clone3'), 'ENOSYS');
      assert.equal(call(arch, 'clone3', 0x7fff0000n, 88), 'ENOSYS');
    });
  }

  test('x86_64: legacy x86 interfaces get EPERM', () => {
    for (const name of X86_ONLY_EPERM) assert.equal(call('x86_64', name), 'EPERM', name);
  });
});

describe('seccomp filter: namespaces', () => {
  for (const arch of ARCHES) {
    test(`${arch}: unshare with any CLONE_NEW* flag is refused, other unshares pass`, () => {
      for (const flag of NAMESPACE_FLAGS) {
        assert.equal(call(arch, 'unshare', CLONE[flag]), 'EPERM', flag);
        assert.equal(call(arch, 'unshare', CLONE[flag] | CLONE.FILES), 'EPERM', `${flag}|CLONE_FILES`);
        assert.equal(call(arch, 'unshare', HIGH | BigInt(CLONE[flag])), 'EPERM', `${flag} with a high bit`);
      }
      assert.equal(call(arch, 'unshare', CLONE.FILES), 'ALLOW');
      assert.equal(call(arch, 'unshare', CLONE.FS | CLONE.FILES | CLONE.SYSVSEM), 'ALLOW');
      assert.equal(call(arch, 'unshare', 0), 'ALLOW');
    });

    test(`${arch}: clone for threads and fork passes, clone with CLONE_NEW* is refused`, () => {
      assert.equal(call(arch, 'clone', PTHREAD_CLONE_FLAGS), 'ALLOW');
      assert.equal(call(arch, 'clone', CLONE.VM | CLONE.THREAD), 'ALLOW');
      assert.equal(call(arch, 'clone', SIGCHLD), 'ALLOW');
      assert.equal(call(arch, 'clone', CLONE.CHILD_CLEARTID | SIGCHLD, 0, 0, 0, 0), 'ALLOW');
      for (const flag of NAMESPACE_FLAGS) {
        assert.equal(call(arch, 'clone', CLONE[flag] | SIGCHLD), 'EPERM', flag);
      }
      assert.equal(call(arch, 'clone', 0xffffffff00000000n | BigInt(CLONE.NEWUSER)), 'EPERM', 'kernel uses lower_32_bits');
      assert.equal(call(arch, 'clone', CLONE.NEWUSER | CLONE.NEWNS | SIGCHLD), 'EPERM');
    });
  }
});

describe('seccomp filter: sockets', () => {
  for (const arch of ARCHES) {
    test(`${arch}: ordinary sockets pass`, () => {
      assert.equal(call(arch, 'socket', AF.INET, SOCK.STREAM, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.INET, SOCK.DGRAM, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.INET6, SOCK.STREAM | SOCK.CLOEXEC | SOCK.NONBLOCK, 6), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.UNIX, SOCK.STREAM, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.UNIX, SOCK.DGRAM | SOCK.CLOEXEC, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.UNIX, SOCK.SEQPACKET, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.RAW, NETLINK.ROUTE), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.DGRAM | SOCK.CLOEXEC, NETLINK.ROUTE), 'ALLOW');
    });

    test(`${arch}: packet, vsock and other families are refused`, () => {
      for (const type of [SOCK.RAW, SOCK.DGRAM, SOCK.STREAM]) {
        assert.equal(call(arch, 'socket', AF.PACKET, type, 0), 'EPERM', `AF_PACKET type ${type}`);
        assert.equal(call(arch, 'socket', AF.VSOCK, type, 0), 'EPERM', `AF_VSOCK type ${type}`);
      }
      for (const family of [0, AF.TIPC, AF.BLUETOOTH, AF.ALG, 45, 0xffff]) {
        assert.equal(call(arch, 'socket', family, SOCK.STREAM, 0), 'EPERM', `family ${family}`);
      }
    });

    test(`${arch}: raw and SOCK_PACKET types are refused for IP and unix families`, () => {
      for (const family of [AF.INET, AF.INET6, AF.UNIX]) {
        assert.equal(call(arch, 'socket', family, SOCK.RAW, 1), 'EPERM', `family ${family} SOCK_RAW`);
        assert.equal(call(arch, 'socket', family, SOCK.RAW | SOCK.CLOEXEC | SOCK.NONBLOCK, 0), 'EPERM', `family ${family} SOCK_RAW|flags`);
        assert.equal(call(arch, 'socket', family, SOCK.PACKET, 0), 'EPERM', `family ${family} SOCK_PACKET`);
      }
    });

    test(`${arch}: netlink other than NETLINK_ROUTE is refused`, () => {
      for (const protocol of [NETLINK.SOCK_DIAG, NETLINK.AUDIT, NETLINK.KOBJECT_UEVENT, 12, 16]) {
        assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.RAW, protocol), 'EPERM', `protocol ${protocol}`);
        assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.DGRAM, protocol), 'EPERM', `protocol ${protocol} dgram`);
      }
    });

    test(`${arch}: high argument bits the kernel truncates do not hide a refused socket`, () => {
      assert.equal(call(arch, 'socket', HIGH | BigInt(AF.PACKET), SOCK.RAW, 0), 'EPERM');
      assert.equal(call(arch, 'socket', 0xffffffff00000000n | BigInt(AF.VSOCK), SOCK.STREAM, 0), 'EPERM');
      assert.equal(call(arch, 'socket', AF.INET, HIGH | BigInt(SOCK.RAW), 1), 'EPERM');
      assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.RAW, HIGH | BigInt(NETLINK.AUDIT)), 'EPERM');
      // The kernel sees these as the allowed values, so the filter must too.
      assert.equal(call(arch, 'socket', HIGH | BigInt(AF.INET), SOCK.STREAM, 0), 'ALLOW');
      assert.equal(call(arch, 'socket', AF.NETLINK, SOCK.RAW, HIGH | BigInt(NETLINK.ROUTE)), 'ALLOW');
    });

    test(`${arch}: socketpair only for AF_UNIX`, () => {
      assert.equal(call(arch, 'socketpair', AF.UNIX, SOCK.STREAM, 0, 0x1000), 'ALLOW');
      assert.equal(call(arch, 'socketpair', AF.UNIX, SOCK.DGRAM | SOCK.CLOEXEC, 0, 0x1000), 'ALLOW');
      assert.equal(call(arch, 'socketpair', AF.TIPC, SOCK.STREAM, 0, 0x1000), 'EPERM');
      assert.equal(call(arch, 'socketpair', AF.INET, SOCK.STREAM, 0, 0x1000), 'EPERM');
      assert.equal(call(arch, 'socketpair', HIGH | BigInt(AF.TIPC), SOCK.STREAM, 0, 0x1000), 'EPERM');
    });
  }
});

describe('seccomp filter: ioctl and personality', () => {
  const TIOCSTI = 0x5412;
  const TIOCLINUX = 0x541c;
  const TIOCSETD = 0x5423;
  for (const arch of ARCHES) {
    test(`${arch}: terminal injection ioctls are refused, ordinary ones pass`, () => {
      for (const cmd of [TIOCSTI, TIOCLINUX, TIOCSETD]) {
        assert.equal(call(arch, 'ioctl', 0, cmd, 0x7ffc0000), 'EPERM', `cmd 0x${cmd.toString(16)}`);
      }
      for (const cmd of [0x5401 /* TCGETS */, 0x5413 /* TIOCGWINSZ */, 0x541b /* FIONREAD */, 0x5421 /* FIONBIO */, 0x5411]) {
        assert.equal(call(arch, 'ioctl', 1, cmd, 0), 'ALLOW', `cmd 0x${cmd.toString(16)}`);
      }
    });

    test(`${arch}: ioctl cmd is compared on the 32 bits the kernel uses`, () => {
      assert.equal(call(arch, 'ioctl', 0, 0x1_0000_5412n, 0), 'EPERM');
      assert.equal(call(arch, 'ioctl', 0, 0xffffffff_0000541cn, 0), 'EPERM');
      assert.equal(call(arch, 'ioctl', HIGH, HIGH | BigInt(TIOCSTI), 0), 'EPERM');
      assert.equal(call(arch, 'ioctl', 0, 0x5412_0000_5401n, 0), 'ALLOW', 'the kernel sees TCGETS');
    });

    test(`${arch}: personality only for PER_LINUX and the query`, () => {
      assert.equal(call(arch, 'personality', 0), 'ALLOW');
      assert.equal(call(arch, 'personality', 0xffffffff), 'ALLOW');
      for (const persona of [0x0040000 /* ADDR_NO_RANDOMIZE */, 0x0400000 /* READ_IMPLIES_EXEC */, 0x0008 /* PER_LINUX32 */, 0x0020000]) {
        assert.equal(call(arch, 'personality', persona), 'EPERM', `persona 0x${persona.toString(16)}`);
        assert.equal(call(arch, 'personality', HIGH | BigInt(persona)), 'EPERM', `persona 0x${persona.toString(16)} with high bit`);
      }
    });
  }
});

describe('seccomp filter: everything else is allowed', () => {
  for (const arch of ARCHES) {
    test(`${arch}: common syscalls pass`, () => {
      assert.equal(call(arch, 'read', 0, 0x1000, 10), 'ALLOW');
      assert.equal(call(arch, 'write', 1, 0x1000, 10), 'ALLOW');
      assert.equal(call(arch, 'openat', 0xffffff9c, 0x1000, 0o2000000), 'ALLOW');
      assert.equal(call(arch, 'execve', 0x1000, 0x2000, 0x3000), 'ALLOW');
    });

    test(`${arch}: every syscall in the table without a rule passes, whatever its arguments`, () => {
      const ruled = new Set(SECCOMP_RULES.map((rule) => rule.syscall));
      let checked = 0;
      for (const [name, number] of Object.entries(syscallTable(arch))) {
        if (ruled.has(name)) continue;
        assert.equal(verdict(arch, number), 'ALLOW', name);
        assert.equal(verdict(arch, number, [0xffffffffffffffffn, CLONE.NEWUSER, AF.PACKET, 0x5412, 5, 6]), 'ALLOW', `${name} with args`);
        checked += 1;
      }
      assert.ok(checked > 250, `only ${checked} syscalls checked`);
    });
  }
});

describe('seccomp filter: documented rules', () => {
  test('every required refusal is documented, with a reason', () => {
    const byName = new Map(SECCOMP_RULES.map((rule) => [rule.syscall, rule]));
    for (const name of [...ALWAYS_EPERM, ...X86_ONLY_EPERM]) {
      const rule = byName.get(name);
      assert.ok(rule, `${name} documented`);
      assert.equal(rule.action, 'EPERM', name);
      assert.equal(rule.when, 'always', name);
      assert.ok(rule.reason.length > 10, name);
    }
    for (const name of ['unshare', 'clone', 'socket', 'ioctl', 'personality']) {
      assert.notEqual(byName.get(name)?.when, 'always', name);
    }
    assert.equal(byName.get('clone3')?.action, 'ENOSYS');
    assert.deepEqual(byName.get('iopl')?.arches, ['x86_64']);
    assert.deepEqual(byName.get('ptrace')?.arches, ['x86_64', 'aarch64']);
    assert.deepEqual(SECCOMP_GLOBAL_RULES.map((rule) => rule.action), ['KILL_PROCESS', 'EPERM', 'ENOSYS']);
  });

  for (const arch of ARCHES) {
    test(`${arch}: each documented unconditional rule is what the program does`, () => {
      for (const rule of SECCOMP_RULES) {
        const number = syscallNumber(arch, rule.syscall);
        assert.equal(number !== undefined, rule.arches.includes(arch), `${rule.syscall} arches`);
        if (number === undefined || rule.when !== 'always') continue;
        assert.equal(verdict(arch, number, [1, 2, 3]), rule.action, rule.syscall);
      }
    });
  }
});

describe('hostSeccompArch', () => {
  function withArch<T>(arch: string, body: () => T): T {
    const original = Object.getOwnPropertyDescriptor(process, 'arch');
    assert.ok(original);
    Object.defineProperty(process, 'arch', { ...original, value: arch });
    try {
      return body();
    } finally {
      Object.defineProperty(process, 'arch', original);
    }
  }

  test('maps node architectures to seccomp architectures', () => {
    assert.equal(withArch('x64', hostSeccompArch), 'x86_64');
    assert.equal(withArch('arm64', hostSeccompArch), 'aarch64');
  });

  test('throws for anything else instead of running without a filter', () => {
    for (const arch of ['ia32', 'arm', 'riscv64', 's390x', 'ppc64', 'loong64']) {
      assert.throws(() => withArch(arch, hostSeccompArch), /refusing to run without a filter/, arch);
    }
  });

  test('the real host is one of the supported architectures', () => {
    assert.equal(hostSeccompArch(), process.arch === 'x64' ? 'x86_64' : 'aarch64');
  });
});
