/**
 * The seccomp-BPF filter every sandboxed process runs under.
 *
 * warden hands the compiled program to bubblewrap (`bwrap --seccomp FD`), which installs it with
 * no_new_privs right before exec, so it binds the agent and everything it starts. The filter is a
 * list of refusals on top of namespaces, an empty capability set and rlimits: it removes kernel
 * interfaces that are escape or attack surface (ptrace, bpf, mounts, namespaces, modules, keyrings,
 * io_uring, raw sockets, terminal injection...) while ordinary programs keep working.
 *
 * Program shape (each block ends in its own return, so no conditional jump reaches far):
 *   1. seccomp_data.arch must be the one the filter was built for, else KILL_PROCESS: a second
 *      syscall ABI (i386 via int 0x80, arm32 compat) would bypass every number below.
 *   2. x86_64 only: x32 numbers (bit 0x40000000) get EPERM.
 *   3. numbers above warden's syscall table get ENOSYS: a syscall added by a newer kernel is
 *      refused until someone reviews it, and ENOSYS is what libc already handles as "old kernel".
 *   4. unconditional refusals, then syscalls refused only for some arguments.
 *   5. everything else: ALLOW.
 * Only the syscall number and arch are read outside the argument blocks, so the kernel's
 * constant-action cache can still answer most syscalls without running the filter.
 *
 * Arguments are compared on their low 32 bits only, and only for parameters the kernel takes as
 * int / unsigned int (or truncates with lower_32_bits): the kernel ignores the high word there, so
 * comparing 64 bits would let a caller slip past by setting a high bit.
 */

import os from 'node:os';
import { BpfAssembler, FALL_THROUGH, type JumpTarget } from './bpf-assembler.js';
import { highestSyscallNumber, syscallNumber, type SeccompArch } from './syscalls.js';

export type { SeccompArch } from './syscalls.js';

export const SECCOMP_ARCHES: readonly SeccompArch[] = Object.freeze(['x86_64', 'aarch64']);

/** linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = Object.freeze({
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
});

/** linux/seccomp.h return values. */
export const SECCOMP_RET = Object.freeze({
  KILL_PROCESS: 0x80000000,
  ERRNO: 0x00050000,
  ALLOW: 0x7fff0000,
});

export const SECCOMP_ERRNO = Object.freeze({ EPERM: 1, ENOSYS: 38 });
export type SeccompDenyAction = keyof typeof SECCOMP_ERRNO;

/** struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; } */
const SECCOMP_DATA_NR = 0;
const SECCOMP_DATA_ARCH = 4;
function argLowWordOffset(arg: number): number {
  // Little-endian: the low half of args[i] comes first. hostSeccompArch() refuses big-endian hosts.
  return 16 + 8 * arg;
}

const X32_SYSCALL_BIT = 0x40000000;

/** How many unconditional refusals share one return; keeps every jump far below 255. */
const REFUSALS_PER_BLOCK = 32;

export interface NamedValue {
  readonly name: string;
  readonly value: number;
}

export type SeccompCondition =
  | { readonly kind: 'always' }
  /** refuse when (low32(args[arg]) & mask) != 0 */
  | { readonly kind: 'arg-has-any-bit'; readonly arg: number; readonly mask: number; readonly maskName: string }
  /** refuse when low32(args[arg]) is one of `denied` */
  | { readonly kind: 'arg-in'; readonly arg: number; readonly denied: readonly NamedValue[] }
  /** refuse when low32(args[arg]) is none of `allowed` */
  | { readonly kind: 'arg-not-in'; readonly arg: number; readonly allowed: readonly NamedValue[] }
  /**
   * socket(domain, type, protocol): allow `families` unless (type & 0xf) is in `deniedTypes`;
   * allow AF_NETLINK only for `netlinkProtocols` (any type); refuse every other domain.
   */
  | {
    readonly kind: 'socket';
    readonly families: readonly NamedValue[];
    readonly deniedTypes: readonly NamedValue[];
    readonly netlinkProtocols: readonly NamedValue[];
  };

export interface SeccompRule {
  readonly syscall: string;
  readonly condition: SeccompCondition;
  /** Human-readable form of `condition`, derived from it (for docs and `explain`). */
  readonly when: string;
  readonly action: SeccompDenyAction;
  readonly reason: string;
  /** Architectures that have this syscall (derived from the syscall tables). */
  readonly arches: readonly SeccompArch[];
}

export interface SeccompGlobalRule {
  readonly when: string;
  readonly action: 'KILL_PROCESS' | SeccompDenyAction;
  readonly arches: readonly SeccompArch[];
  readonly reason: string;
}

// Constants from linux/sched.h, linux/socket.h, linux/net.h, linux/netlink.h, asm-generic/ioctls.h
// (the ioctl numbers are the same on x86_64 and arm64).
const CLONE_NEW_FLAGS: readonly NamedValue[] = [
  { name: 'CLONE_NEWTIME', value: 0x00000080 },
  { name: 'CLONE_NEWNS', value: 0x00020000 },
  { name: 'CLONE_NEWCGROUP', value: 0x02000000 },
  { name: 'CLONE_NEWUTS', value: 0x04000000 },
  { name: 'CLONE_NEWIPC', value: 0x08000000 },
  { name: 'CLONE_NEWUSER', value: 0x10000000 },
  { name: 'CLONE_NEWPID', value: 0x20000000 },
  { name: 'CLONE_NEWNET', value: 0x40000000 },
];
const CLONE_NEW_MASK = CLONE_NEW_FLAGS.reduce((mask, flag) => (mask | flag.value) >>> 0, 0);

const AF_UNIX = { name: 'AF_UNIX', value: 1 };
const AF_INET = { name: 'AF_INET', value: 2 };
const AF_INET6 = { name: 'AF_INET6', value: 10 };
const AF_NETLINK_VALUE = 16;
const SOCK_TYPE_MASK = 0xf;

const ALWAYS: SeccompCondition = { kind: 'always' };
/** S_ISUID | S_ISGID in a mode argument. */
const SET_ID_BITS_IN_ARG1 = { kind: 'arg-has-any-bit', arg: 1, mask: 0o6000, maskName: 'S_ISUID|S_ISGID' } as const;

interface RuleSpec {
  readonly syscalls: readonly string[];
  readonly action: SeccompDenyAction;
  readonly reason: string;
  readonly condition?: SeccompCondition;
}

const RULE_SPECS: readonly RuleSpec[] = [
  {
    syscalls: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd', 'kcmp'],
    action: 'EPERM',
    reason: 'reading, writing or stealing from another process (memory, registers, file descriptors)',
  },
  {
    syscalls: ['bpf', 'perf_event_open', 'userfaultfd'],
    action: 'EPERM',
    reason: 'large kernel attack surface, a recurring source of privilege escalations and exploit primitives',
  },
  {
    syscalls: [
      'mount', 'umount2', 'pivot_root', 'chroot',
      'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'open_tree_attr', 'mount_setattr',
    ],
    action: 'EPERM',
    reason: 'changing the filesystem view the sandbox was built with (classic and new mount API)',
  },
  {
    syscalls: ['setns'],
    action: 'EPERM',
    reason: 'joining another namespace would leave the sandbox',
  },
  {
    syscalls: ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module'],
    action: 'EPERM',
    reason: 'loading kernel code or a new kernel',
  },
  {
    syscalls: ['keyctl', 'add_key', 'request_key'],
    action: 'EPERM',
    reason: 'the kernel keyrings are not namespaced and may hold host secrets',
  },
  {
    syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'],
    action: 'EPERM',
    reason: 'io_uring performs operations without syscalls this filter could see, and is a frequent exploit target',
  },
  {
    syscalls: ['open_by_handle_at', 'name_to_handle_at'],
    action: 'EPERM',
    reason: 'file handles open files by inode, bypassing the mount view (the "shocker" container escape)',
  },
  {
    syscalls: ['acct', 'swapon', 'swapoff', 'reboot', 'syslog', 'quotactl', 'quotactl_fd', 'lookup_dcookie'],
    action: 'EPERM',
    reason: 'host administration interfaces that no agent needs',
  },
  {
    syscalls: ['settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex'],
    action: 'EPERM',
    reason: 'the system clock is not namespaced (adjtimex/clock_adjtime read-only use is refused too: its mode is in user memory)',
  },
  {
    syscalls: ['iopl', 'ioperm', 'modify_ldt', 'uselib'],
    action: 'EPERM',
    reason: 'legacy x86 interfaces (port I/O, LDT, a.out libraries) with a history of kernel bugs',
  },
  {
    syscalls: ['clone3'],
    action: 'ENOSYS',
    reason: 'its flags live in user memory a filter cannot inspect; on ENOSYS libc falls back to clone, whose flags are checked',
  },
  {
    syscalls: ['unshare', 'clone'],
    action: 'EPERM',
    condition: { kind: 'arg-has-any-bit', arg: 0, mask: CLONE_NEW_MASK, maskName: 'CLONE_NEW*' },
    reason: 'new namespaces (above all user namespaces) expose kernel code meant for root; plain fork, threads and unshare of files/fs stay allowed',
  },
  {
    syscalls: ['socket'],
    action: 'EPERM',
    condition: {
      kind: 'socket',
      families: [AF_UNIX, AF_INET, AF_INET6],
      deniedTypes: [
        { name: 'SOCK_RAW', value: 3 },
        { name: 'SOCK_PACKET', value: 10 },
      ],
      netlinkProtocols: [{ name: 'NETLINK_ROUTE', value: 0 }],
    },
    reason: 'raw, packet, vsock and exotic socket families reach below the egress proxy or into rarely audited kernel code; routing netlink stays for getaddrinfo and interface listing',
  },
  {
    syscalls: ['socketpair'],
    action: 'EPERM',
    condition: { kind: 'arg-not-in', arg: 0, allowed: [AF_UNIX] },
    reason: 'socketpair creates sockets too; only AF_UNIX pairs are useful, other families would bypass the socket rule',
  },
  {
    syscalls: ['ioctl'],
    action: 'EPERM',
    condition: {
      kind: 'arg-in',
      arg: 1,
      denied: [
        { name: 'TIOCSTI', value: 0x5412 },
        { name: 'TIOCLINUX', value: 0x541c },
        { name: 'TIOCSETD', value: 0x5423 },
      ],
    },
    reason: 'faking keyboard input into (or reading) the terminal the sandbox shares with the host, and swapping TTY line disciplines',
  },
  {
    syscalls: ['chmod', 'fchmod', 'creat', 'mkdir', 'mknod'],
    action: 'EPERM',
    condition: SET_ID_BITS_IN_ARG1,
    reason: 'setuid and setgid files in a sandbox would run with the sandbox uid for any local user who finds them (and on the host, outside the nosuid mounts)',
  },
  {
    syscalls: ['fchmodat', 'fchmodat2', 'open', 'mkdirat', 'mknodat'],
    action: 'EPERM',
    condition: { ...SET_ID_BITS_IN_ARG1, arg: 2 },
    reason: 'the same for the *at forms, whose mode is the third argument (and open, whose mode applies when it creates the file)',
  },
  {
    syscalls: ['openat'],
    action: 'EPERM',
    condition: { ...SET_ID_BITS_IN_ARG1, arg: 3 },
    reason: 'the same for openat, whose mode applies when it creates the file',
  },
  {
    syscalls: ['openat2'],
    action: 'ENOSYS',
    reason: 'its mode lives in user memory a filter cannot inspect; on ENOSYS programs fall back to openat, whose mode is checked',
  },
  {
    syscalls: ['personality'],
    action: 'EPERM',
    condition: {
      kind: 'arg-not-in',
      arg: 0,
      allowed: [
        { name: 'PER_LINUX', value: 0 },
        { name: 'query (0xffffffff)', value: 0xffffffff },
      ],
    },
    reason: 'other personalities disable ASLR (ADDR_NO_RANDOMIZE) or make data executable (READ_IMPLIES_EXEC)',
  },
];

export const SECCOMP_GLOBAL_RULES: readonly SeccompGlobalRule[] = Object.freeze([
  {
    when: 'seccomp_data.arch is not the architecture the filter was built for',
    action: 'KILL_PROCESS',
    arches: SECCOMP_ARCHES,
    reason: 'a second syscall ABI (i386 int 0x80, where vm86 lives; arm32 compat) would bypass every rule; killing is the only safe answer',
  },
  {
    when: 'syscall number has the x32 bit (0x40000000)',
    action: 'EPERM',
    arches: ['x86_64'],
    reason: 'the x32 ABI renumbers syscalls; refusing it keeps one numbering to check',
  },
  {
    when: 'syscall number is higher than every syscall in warden\'s table',
    action: 'ENOSYS',
    arches: SECCOMP_ARCHES,
    reason: 'a syscall added by a newer kernel stays unavailable until reviewed; ENOSYS makes libc behave as on an older kernel',
  },
] satisfies SeccompGlobalRule[]);

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

function names(values: readonly NamedValue[]): string {
  return values.map((v) => v.name).join(', ');
}

export function describeCondition(condition: SeccompCondition): string {
  switch (condition.kind) {
    case 'always':
      return 'always';
    case 'arg-has-any-bit':
      return `arg${condition.arg} (low 32 bits) has any ${condition.maskName} bit (${hex(condition.mask)})`;
    case 'arg-in':
      return `arg${condition.arg} (low 32 bits) is ${names(condition.denied)}`;
    case 'arg-not-in':
      return `arg${condition.arg} (low 32 bits) is not ${names(condition.allowed)}`;
    case 'socket':
      return (
        `domain is not ${names(condition.families)} or AF_NETLINK; ` +
        `or (type & 0xf) is ${names(condition.deniedTypes)} for ${names(condition.families)}; ` +
        `or AF_NETLINK with protocol other than ${names(condition.netlinkProtocols)}`
      );
  }
}

function archesWith(syscall: string): SeccompArch[] {
  return SECCOMP_ARCHES.filter((arch) => syscallNumber(arch, syscall) !== undefined);
}

function expandRules(specs: readonly RuleSpec[]): readonly SeccompRule[] {
  const seen = new Set<string>();
  const rules: SeccompRule[] = [];
  for (const spec of specs) {
    const condition = spec.condition ?? ALWAYS;
    for (const syscall of spec.syscalls) {
      if (seen.has(syscall)) throw new Error(`seccomp rule for ${syscall} is defined twice`);
      seen.add(syscall);
      const arches = archesWith(syscall);
      // A name in no table is a typo that would silently block nothing: refuse to load.
      if (arches.length === 0) throw new Error(`seccomp rule names unknown syscall ${syscall}`);
      rules.push(Object.freeze({
        syscall,
        condition,
        when: describeCondition(condition),
        action: spec.action,
        reason: spec.reason,
        arches: Object.freeze(arches),
      }));
    }
  }
  return Object.freeze(rules);
}

/** Every syscall the filter refuses, with when, how and why. */
export const SECCOMP_RULES: readonly SeccompRule[] = expandRules(RULE_SPECS);

/** The architecture of this host, or an Error: warden never runs a sandbox without a filter. */
export function hostSeccompArch(): SeccompArch {
  if (os.endianness() !== 'LE') {
    throw new Error(`seccomp: big-endian hosts are not supported (process.arch ${process.arch}); refusing to run without a filter`);
  }
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    default:
      throw new Error(
        `seccomp: no filter for architecture ${process.arch} (supported: x64, arm64); refusing to run without a filter`,
      );
  }
}

function errnoReturn(action: SeccompDenyAction): number {
  return (SECCOMP_RET.ERRNO | SECCOMP_ERRNO[action]) >>> 0;
}

function requireNumber(arch: SeccompArch, syscall: string): number {
  const nr = syscallNumber(arch, syscall);
  if (nr === undefined) throw new Error(`seccomp: ${syscall} has no number on ${arch}`);
  return nr;
}

class FilterBuilder {
  private readonly asm = new BpfAssembler();
  private blockCount = 0;

  constructor(private readonly arch: SeccompArch) {}

  build(rules: readonly SeccompRule[]): Buffer {
    const applicable = rules.filter((rule) => rule.arches.includes(this.arch));
    this.emitArchCheck();
    this.asm.loadWord(SECCOMP_DATA_NR);
    if (this.arch === 'x86_64') this.emitX32Refusal();
    this.emitUnknownSyscallRefusal();
    for (const action of Object.keys(SECCOMP_ERRNO) as SeccompDenyAction[]) {
      const numbers = applicable
        .filter((rule) => rule.condition.kind === 'always' && rule.action === action)
        .map((rule) => requireNumber(this.arch, rule.syscall));
      this.emitUnconditionalRefusals(numbers, errnoReturn(action));
    }
    for (const rule of applicable) {
      if (rule.condition.kind !== 'always') this.emitArgumentBlock(rule);
    }
    this.asm.ret(SECCOMP_RET.ALLOW);
    return this.asm.assemble();
  }

  private newLabel(purpose: string): string {
    this.blockCount += 1;
    return `${purpose}#${this.blockCount}`;
  }

  private emitArchCheck(): void {
    const archOk = this.newLabel('arch-ok');
    this.asm
      .loadWord(SECCOMP_DATA_ARCH)
      .jumpIfEqual(AUDIT_ARCH[this.arch], archOk, FALL_THROUGH)
      .ret(SECCOMP_RET.KILL_PROCESS)
      .label(archOk);
  }

  private emitX32Refusal(): void {
    const native = this.newLabel('not-x32');
    this.asm.jumpIfAnyBit(X32_SYSCALL_BIT, FALL_THROUGH, native).ret(errnoReturn('EPERM')).label(native);
  }

  private emitUnknownSyscallRefusal(): void {
    const known = this.newLabel('known-nr');
    this.asm
      .jumpIfGreater(highestSyscallNumber(this.arch), FALL_THROUGH, known)
      .ret(errnoReturn('ENOSYS'))
      .label(known);
  }

  /** A = nr here. Blocks of compares share one return; a JA skips it when nothing matched. */
  private emitUnconditionalRefusals(numbers: readonly number[], verdict: number): void {
    for (let start = 0; start < numbers.length; start += REFUSALS_PER_BLOCK) {
      const refuse = this.newLabel('refuse');
      const next = this.newLabel('after-refuse');
      for (const nr of numbers.slice(start, start + REFUSALS_PER_BLOCK)) {
        this.asm.jumpIfEqual(nr, refuse, FALL_THROUGH);
      }
      this.asm.jumpAlways(next).label(refuse).ret(verdict).label(next);
    }
  }

  /**
   * A = nr on entry. For another syscall the block is skipped with A intact; for its own syscall
   * every path ends in the block's own refuse or allow return.
   */
  private emitArgumentBlock(rule: SeccompRule): void {
    const skip = this.newLabel(`not-${rule.syscall}`);
    const refuse = this.newLabel(`refuse-${rule.syscall}`);
    const allow = this.newLabel(`allow-${rule.syscall}`);
    this.asm.jumpIfEqual(requireNumber(this.arch, rule.syscall), FALL_THROUGH, skip);
    const condition = rule.condition;
    switch (condition.kind) {
      case 'always':
        throw new Error('unconditional rules are emitted elsewhere');
      case 'arg-has-any-bit':
        this.asm.loadWord(argLowWordOffset(condition.arg)).jumpIfAnyBit(condition.mask, refuse, allow);
        break;
      case 'arg-in':
        this.asm.loadWord(argLowWordOffset(condition.arg));
        this.emitMembership(condition.denied, refuse, allow);
        break;
      case 'arg-not-in':
        this.asm.loadWord(argLowWordOffset(condition.arg));
        this.emitMembership(condition.allowed, allow, refuse);
        break;
      case 'socket':
        this.emitSocketChecks(condition, refuse, allow);
        break;
    }
    this.asm.label(refuse).ret(errnoReturn(rule.action)).label(allow).ret(SECCOMP_RET.ALLOW).label(skip);
  }

  /** Jumps to onMatch when A equals one of `values`, else to onNoMatch. */
  private emitMembership(values: readonly NamedValue[], onMatch: JumpTarget, onNoMatch: JumpTarget): void {
    if (values.length === 0) {
      if (onNoMatch !== FALL_THROUGH) this.asm.jumpAlways(onNoMatch);
      return;
    }
    values.forEach((value, index) => {
      const last = index === values.length - 1;
      this.asm.jumpIfEqual(value.value, onMatch, last ? onNoMatch : FALL_THROUGH);
    });
  }

  private emitSocketChecks(
    condition: Extract<SeccompCondition, { kind: 'socket' }>,
    refuse: string,
    allow: string,
  ): void {
    const checkType = this.newLabel('socket-type');
    this.asm.loadWord(argLowWordOffset(0));
    this.emitMembership(condition.families, checkType, FALL_THROUGH);
    this.asm.jumpIfEqual(AF_NETLINK_VALUE, FALL_THROUGH, refuse).loadWord(argLowWordOffset(2));
    this.emitMembership(condition.netlinkProtocols, allow, refuse);
    this.asm.label(checkType).loadWord(argLowWordOffset(1)).andConstant(SOCK_TYPE_MASK);
    this.emitMembership(condition.deniedTypes, refuse, allow);
  }
}

/** The filter program for `arch`: raw little-endian struct sock_filter[], ready for bwrap --seccomp. */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  if (!SECCOMP_ARCHES.includes(arch)) throw new Error(`seccomp: unsupported architecture ${String(arch)}`);
  return new FilterBuilder(arch).build(SECCOMP_RULES);
}
