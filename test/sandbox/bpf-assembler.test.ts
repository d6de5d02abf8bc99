import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfAssembler, FALL_THROUGH } from '../../src/sandbox/bpf-assembler.js';
import { decodeProgram, runSeccompFilter } from './bpf-interpreter.js';

const NR_OFFSET = 0;
const input = (nr: number) => ({ nr, arch: 0 });

/** A program that tests nr == 7 with `distance` filler instructions between the test and its target. */
function programWithGap(distance: number, useFarJump: boolean): BpfAssembler {
  const asm = new BpfAssembler().loadWord(NR_OFFSET);
  if (useFarJump) {
    asm.jumpIfEqual(7, FALL_THROUGH, 'miss').jumpAlways('hit').label('miss');
  } else {
    asm.jumpIfEqual(7, 'hit', FALL_THROUGH);
  }
  for (let i = 0; i < distance; i += 1) asm.loadWord(NR_OFFSET);
  return asm.ret(1).label('hit').ret(2);
}

describe('BPF assembler', () => {
  test('encodes struct sock_filter little-endian, 8 bytes each', () => {
    const program = new BpfAssembler().loadWord(4).jumpIfEqual(0x11223344, 'yes', FALL_THROUGH).ret(0).label('yes').ret(0x7fff0000).assemble();
    assert.equal(program.length, 4 * 8);
    assert.deepEqual([...program.subarray(0, 16)], [
      0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, // ld [4]
      0x15, 0x00, 0x01, 0x00, 0x44, 0x33, 0x22, 0x11, // jeq #0x11223344, jt 1, jf 0
    ]);
  });

  test('a conditional jump of exactly 255 assembles and runs; 256 throws', () => {
    const ok = programWithGap(254, false).assemble(); // jump skips 254 loads + ret = 255
    assert.equal(decodeProgram(ok)[1]?.jt, 255);
    assert.equal(runSeccompFilter(ok, input(7)), 2);
    assert.equal(runSeccompFilter(ok, input(8)), 1);
    assert.throws(() => programWithGap(255, false).assemble(), /more than 255/);
  });

  test('far targets are reached through JA with a 32-bit offset', () => {
    const program = programWithGap(1000, true).assemble();
    assert.equal(runSeccompFilter(program, input(7)), 2);
    assert.equal(runSeccompFilter(program, input(8)), 1);
  });

  test('refuses programs the kernel would reject or misread', () => {
    assert.throws(() => new BpfAssembler().assemble(), /empty/);
    assert.throws(() => new BpfAssembler().loadWord(0).assemble(), /must end with a return/);
    assert.throws(() => new BpfAssembler().jumpAlways('nowhere').ret(0).assemble(), /not defined/);
    assert.throws(() => new BpfAssembler().label('x').label('x'), /defined twice/);
    assert.throws(
      () => new BpfAssembler().label('top').loadWord(0).jumpIfEqual(1, 'top', FALL_THROUGH).ret(0).assemble(),
      /backward/,
    );
    assert.throws(() => new BpfAssembler().jumpAlways('end').ret(0).label('end').assemble(), /leaves the program/);
    assert.throws(() => new BpfAssembler().ret(-1), /unsigned 32-bit/);
    assert.throws(() => new BpfAssembler().ret(2 ** 32), /unsigned 32-bit/);
    assert.throws(() => new BpfAssembler().ret(1.5), /unsigned 32-bit/);
  });

  test('4096 instructions assemble, 4097 throw', () => {
    const build = (count: number) => {
      const asm = new BpfAssembler();
      for (let i = 0; i < count - 1; i += 1) asm.loadWord(0);
      return asm.ret(0).assemble();
    };
    assert.equal(build(4096).length, 4096 * 8);
    assert.throws(() => build(4097), /at most 4096/);
  });
});
