import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvError, parseEnvAssignments, sandboxEnvironment } from '../../src/sandbox/environment.js';

test('--env values parse, keep = in values, and reject bare names', () => {
  assert.deepEqual(parseEnvAssignments(['A=1', 'B=x=y', 'EMPTY=']), { A: '1', B: 'x=y', EMPTY: '' });
  for (const bad of ['NOVALUE', '=v', '1A=v', 'A-B=v']) assert.throws(() => parseEnvAssignments([bad]), EnvError, bad);
});

test('the sandbox environment is built from scratch', () => {
  process.env.WARDEN_UNIT_CANARY = 'leak';
  const env = sandboxEnvironment({
    user: { uid: 1, gid: 1, name: 'sandbox', group: 'sandbox', dropsPrivileges: false },
    hostname: 'warden-x', sandboxName: 'x', cwd: '/sandbox', extra: { EXTRA: '1' },
  });
  assert.equal(env.WARDEN_UNIT_CANARY, undefined);
  assert.equal(env.HOME, '/sandbox');
  assert.equal(env.EXTRA, '1');
  assert.equal(env.TERM, undefined);
  delete process.env.WARDEN_UNIT_CANARY;
});
