// `warden exec NAME ...`: options between NAME and CMD, `--` optional, Docker's -it accepted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execArgs } from '../../src/cli/gateway-commands.js';

test('options end at the command; -- is optional; the command keeps its own options', () => {
  assert.deepEqual(execArgs(['ls', '-la'], {}).command, ['ls', '-la']);
  assert.deepEqual(execArgs(['--', 'ls', '-la'], {}).command, ['ls', '-la']);
  const mixed = execArgs(['-e', 'A=1', '--env=B=2', '-t', '--no-denials', '--json', '--', 'grep', '-e', 'x'], {});
  assert.deepEqual(mixed.command, ['grep', '-e', 'x']);
  assert.deepEqual(mixed.opts, { env: ['A=1', 'B=2'], tty: true, denials: false, json: true });
});

test('-it, -i and -T are accepted (stdin always passes on)', () => {
  assert.equal(execArgs(['-it', 'bash'], {}).opts.tty, true);
  assert.equal(execArgs(['-iT', 'bash'], {}).opts.tty, false);
  assert.equal(execArgs(['-i', 'bash'], {}).opts.tty, undefined);
});

test('an unknown option before the command is a usage error, not a command', () => {
  assert.match(execArgs(['--jsn', 'ls'], {}).error ?? '', /unknown option '--jsn'/);
  assert.equal(execArgs(['-t'], {}).command.length, 0);
});
