// Waiting in tests: for the event itself, never for a fixed time.
import { setTimeout as sleep } from 'node:timers/promises';

const NOTE_EVERY_MS = 30_000;

/**
 * Resolves once `condition` holds, checking the real state every `pollMs`. It has no deadline of
 * its own, so a slow machine can never fail it: a wait that never ends is ended by the test
 * runner's --test-timeout. Meanwhile, every 30 s, it says on stderr what it is still waiting for
 * (`what` may be a function, for a description of the state at that moment), so that a hang is
 * told from a slow run. A condition that throws ends the wait with its error.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string | (() => string), pollMs = 10): Promise<void> {
  const noteEvery = Math.max(1, Math.round(NOTE_EVERY_MS / pollMs));
  for (let polls = 1; !(await condition()); polls++) {
    await sleep(pollMs);
    if (polls % noteEvery === 0) process.stderr.write(`# still waiting for ${typeof what === 'function' ? what() : what}\n`);
  }
}
