/**
 * A classic-BPF interpreter for tests, written against the kernel's rules rather than against
 * warden's assembler: it decodes raw struct sock_filter bytes, checks them the way the kernel's
 * loader does for seccomp (allowed opcodes, aligned in-bounds loads from seccomp_data, forward
 * in-range jumps, a final return), then runs them over a synthetic seccomp_data.
 */

export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export interface SeccompInput {
  readonly nr: number;
  readonly arch: number;
  readonly instructionPointer?: bigint;
  /** Up to six 64-bit arguments; numbers must be non-negative integers. */
  readonly args?: readonly (bigint | number)[];
}

const SECCOMP_DATA_BYTES = 64;
const MAX_INSTRUCTIONS = 4096;

// Class, size/mode, op and source fields of a classic BPF opcode (linux/bpf_common.h).
const CLASS = { LD: 0x00, LDX: 0x01, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07 } as const;
const MODE = { IMM: 0x00, ABS: 0x20 } as const;
const SIZE_W = 0x00;
const SRC_K = 0x00;
const SRC_X = 0x08;
const RVAL_A = 0x10;
const ALU = { ADD: 0x00, SUB: 0x10, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, XOR: 0xa0 } as const;
const JMP = { JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40 } as const;
const MISC = { TAX: 0x00, TXA: 0x80 } as const;

const cls = (code: number): number => code & 0x07;
const op = (code: number): number => code & 0xf0;
const src = (code: number): number => code & 0x08;

export function decodeProgram(program: Buffer): BpfInstruction[] {
  if (program.length === 0 || program.length % 8 !== 0) {
    throw new Error(`program length ${program.length} is not a positive multiple of 8`);
  }
  const instructions: BpfInstruction[] = [];
  for (let at = 0; at < program.length; at += 8) {
    instructions.push({
      code: program.readUInt16LE(at),
      jt: program.readUInt8(at + 2),
      jf: program.readUInt8(at + 3),
      k: program.readUInt32LE(at + 4),
    });
  }
  checkProgram(instructions);
  return instructions;
}

function checkProgram(program: readonly BpfInstruction[]): void {
  if (program.length > MAX_INSTRUCTIONS) throw new Error(`program has ${program.length} instructions`);
  program.forEach((insn, pc) => {
    const where = `instruction ${pc} (code 0x${insn.code.toString(16)})`;
    switch (cls(insn.code)) {
      case CLASS.LD:
        if (insn.code === (CLASS.LD | SIZE_W | MODE.ABS)) {
          if (insn.k % 4 !== 0 || insn.k >= SECCOMP_DATA_BYTES) throw new Error(`${where}: bad seccomp_data offset ${insn.k}`);
        } else if (insn.code !== (CLASS.LD | MODE.IMM)) {
          throw new Error(`${where}: load mode not allowed in seccomp`);
        }
        break;
      case CLASS.LDX:
        if (insn.code !== (CLASS.LDX | MODE.IMM)) throw new Error(`${where}: ldx mode not allowed here`);
        break;
      case CLASS.ALU:
        if (!Object.values(ALU).includes(op(insn.code) as never)) throw new Error(`${where}: unsupported ALU op`);
        break;
      case CLASS.JMP: {
        const jumpOp = op(insn.code);
        if (!Object.values(JMP).includes(jumpOp as never)) throw new Error(`${where}: unsupported jump`);
        if (jumpOp === JMP.JA) {
          if (pc + 1 + insn.k >= program.length) throw new Error(`${where}: JA leaves the program`);
        } else if (pc + 1 + insn.jt >= program.length || pc + 1 + insn.jf >= program.length) {
          throw new Error(`${where}: conditional jump leaves the program`);
        }
        break;
      }
      case CLASS.RET:
        if (insn.code !== (CLASS.RET | SRC_K) && insn.code !== (CLASS.RET | RVAL_A)) throw new Error(`${where}: bad return`);
        break;
      case CLASS.MISC:
        if (insn.code !== (CLASS.MISC | MISC.TAX) && insn.code !== (CLASS.MISC | MISC.TXA)) throw new Error(`${where}: bad misc`);
        break;
      default:
        throw new Error(`${where}: instruction class not allowed in seccomp`);
    }
  });
  const last = program[program.length - 1];
  if (last === undefined || cls(last.code) !== CLASS.RET) throw new Error('program does not end with a return');
}

/** struct seccomp_data laid out as on a little-endian kernel. */
export function encodeSeccompData(input: SeccompInput): Buffer {
  const data = Buffer.alloc(SECCOMP_DATA_BYTES);
  data.writeUInt32LE(input.nr >>> 0, 0);
  data.writeUInt32LE(input.arch >>> 0, 4);
  data.writeBigUInt64LE(input.instructionPointer ?? 0n, 8);
  const args = input.args ?? [];
  if (args.length > 6) throw new Error('seccomp_data has six arguments');
  args.forEach((arg, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)), 16 + 8 * i));
  return data;
}

/** Runs the filter and returns its 32-bit verdict (action | data). */
export function runSeccompFilter(program: Buffer, input: SeccompInput): number {
  const code = decodeProgram(program);
  const data = encodeSeccompData(input);
  let a = 0;
  let x = 0;
  let pc = 0;
  // Forward-only jumps guarantee termination; the step bound is a guard against interpreter bugs.
  for (let steps = 0; steps <= code.length; steps += 1) {
    const insn = code[pc];
    if (insn === undefined) throw new Error(`fell off the program at ${pc}`);
    pc += 1;
    switch (cls(insn.code)) {
      case CLASS.LD:
        a = insn.code === (CLASS.LD | SIZE_W | MODE.ABS) ? data.readUInt32LE(insn.k) : insn.k;
        break;
      case CLASS.LDX:
        x = insn.k;
        break;
      case CLASS.ALU:
        a = alu(op(insn.code), a, src(insn.code) === SRC_X ? x : insn.k);
        break;
      case CLASS.JMP:
        pc += jumpOffset(insn, a, x);
        break;
      case CLASS.RET:
        return (insn.code === (CLASS.RET | RVAL_A) ? a : insn.k) >>> 0;
      case CLASS.MISC:
        if (insn.code === (CLASS.MISC | MISC.TAX)) x = a;
        else a = x;
        break;
    }
  }
  throw new Error('program did not return');
}

function alu(operation: number, a: number, operand: number): number {
  switch (operation) {
    case ALU.ADD: return (a + operand) >>> 0;
    case ALU.SUB: return (a - operand) >>> 0;
    case ALU.OR: return (a | operand) >>> 0;
    case ALU.AND: return (a & operand) >>> 0;
    case ALU.XOR: return (a ^ operand) >>> 0;
    case ALU.LSH: return operand >= 32 ? 0 : (a << operand) >>> 0;
    case ALU.RSH: return operand >= 32 ? 0 : a >>> operand;
    default: throw new Error(`ALU op 0x${operation.toString(16)}`);
  }
}

function jumpOffset(insn: BpfInstruction, a: number, x: number): number {
  const operand = src(insn.code) === SRC_X ? x : insn.k;
  switch (op(insn.code)) {
    case JMP.JA: return insn.k;
    case JMP.JEQ: return a === operand ? insn.jt : insn.jf;
    case JMP.JGT: return a > operand ? insn.jt : insn.jf;
    case JMP.JGE: return a >= operand ? insn.jt : insn.jf;
    case JMP.JSET: return (a & operand) !== 0 ? insn.jt : insn.jf;
    default: throw new Error(`jump op 0x${op(insn.code).toString(16)}`);
  }
}
