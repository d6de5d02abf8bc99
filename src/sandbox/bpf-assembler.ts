/**
 * A tiny assembler for the classic-BPF subset that seccomp filters use.
 *
 * Output is the raw array of `struct sock_filter` { u16 code; u8 jt; u8 jf; u32 k; } in
 * little-endian byte order, 8 bytes per instruction: exactly what `prctl(PR_SET_SECCOMP)` and
 * `bwrap --seccomp FD` take. Jumps name labels; the assembler resolves them and refuses (throws)
 * anything the kernel would reject or silently misread: a conditional offset above 255, a
 * backward or out-of-range jump, an unknown or duplicate label, a program longer than 4096
 * instructions, or one whose last instruction is not a return.
 */

/** Opcodes (linux/bpf_common.h): class | size | mode, class | op | source. */
export const BPF_OP = Object.freeze({
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JMP_JA: 0x05, // BPF_JMP | BPF_JA
  JMP_JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JMP_JGT_K: 0x25, // BPF_JMP | BPF_JGT | BPF_K
  JMP_JSET_K: 0x45, // BPF_JMP | BPF_JSET | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
});

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAX_INSTRUCTIONS = 4096;
export const BPF_INSTRUCTION_BYTES = 8;
const MAX_CONDITIONAL_OFFSET = 0xff;
const MAX_U32 = 0xffffffff;

/** Jump target meaning "the next instruction" (offset 0). */
export const FALL_THROUGH: unique symbol = Symbol('fall-through');
export type JumpTarget = string | typeof FALL_THROUGH;

interface PendingInstruction {
  code: number;
  k: number;
  /** conditional jumps */
  jt?: JumpTarget;
  jf?: JumpTarget;
  /** unconditional jump: k is resolved from this label */
  always?: string;
}

export class BpfAssembler {
  private readonly instructions: PendingInstruction[] = [];
  private readonly labels = new Map<string, number>();

  /** A = 32-bit word at byte `offset` of the input (seccomp_data). */
  loadWord(offset: number): this {
    return this.push({ code: BPF_OP.LD_W_ABS, k: offset });
  }

  andConstant(mask: number): this {
    return this.push({ code: BPF_OP.ALU_AND_K, k: mask });
  }

  jumpIfEqual(k: number, jt: JumpTarget, jf: JumpTarget): this {
    return this.push({ code: BPF_OP.JMP_JEQ_K, k, jt, jf });
  }

  jumpIfGreater(k: number, jt: JumpTarget, jf: JumpTarget): this {
    return this.push({ code: BPF_OP.JMP_JGT_K, k, jt, jf });
  }

  /** Jumps to jt when (A & k) != 0. */
  jumpIfAnyBit(k: number, jt: JumpTarget, jf: JumpTarget): this {
    return this.push({ code: BPF_OP.JMP_JSET_K, k, jt, jf });
  }

  /** Unconditional jump; its 32-bit offset is how a program reaches further than 255. */
  jumpAlways(label: string): this {
    return this.push({ code: BPF_OP.JMP_JA, k: 0, always: label });
  }

  ret(k: number): this {
    return this.push({ code: BPF_OP.RET_K, k });
  }

  /** Names the position of the next instruction emitted. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`BPF label "${name}" defined twice`);
    this.labels.set(name, this.instructions.length);
    return this;
  }

  get length(): number {
    return this.instructions.length;
  }

  assemble(): Buffer {
    const count = this.instructions.length;
    if (count === 0) throw new Error('BPF program is empty');
    if (count > BPF_MAX_INSTRUCTIONS) {
      throw new Error(`BPF program has ${count} instructions, the kernel accepts at most ${BPF_MAX_INSTRUCTIONS}`);
    }
    const last = this.instructions[count - 1];
    if (last === undefined || last.code !== BPF_OP.RET_K) {
      throw new Error('BPF program must end with a return instruction');
    }
    const out = Buffer.alloc(count * BPF_INSTRUCTION_BYTES);
    this.instructions.forEach((insn, index) => {
      const jt = this.conditionalOffset(insn.jt, index);
      const jf = this.conditionalOffset(insn.jf, index);
      const k = insn.always === undefined ? insn.k : this.offsetTo(insn.always, index, MAX_U32);
      const at = index * BPF_INSTRUCTION_BYTES;
      out.writeUInt16LE(insn.code, at);
      out.writeUInt8(jt, at + 2);
      out.writeUInt8(jf, at + 3);
      out.writeUInt32LE(k, at + 4);
    });
    return out;
  }

  private push(insn: PendingInstruction): this {
    if (!Number.isInteger(insn.k) || insn.k < 0 || insn.k > MAX_U32) {
      throw new Error(`BPF constant ${insn.k} is not an unsigned 32-bit integer`);
    }
    this.instructions.push(insn);
    return this;
  }

  private conditionalOffset(target: JumpTarget | undefined, from: number): number {
    if (target === undefined || target === FALL_THROUGH) return 0;
    return this.offsetTo(target, from, MAX_CONDITIONAL_OFFSET);
  }

  /** BPF jumps are relative to the following instruction and may only go forward. */
  private offsetTo(label: string, from: number, max: number): number {
    const target = this.labels.get(label);
    if (target === undefined) throw new Error(`BPF label "${label}" is not defined`);
    const offset = target - (from + 1);
    if (offset < 0) throw new Error(`BPF jump from ${from} to "${label}" goes backward`);
    if (target >= this.instructions.length) {
      throw new Error(`BPF jump from ${from} to "${label}" leaves the program`);
    }
    if (offset > max) {
      throw new Error(`BPF jump from ${from} to "${label}" is ${offset} instructions, more than ${max} fit`);
    }
    return offset;
  }
}
