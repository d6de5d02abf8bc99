// The first stage: an action whose process the kernel could not name, or whose process runs code
// that is not its binary's, is denied whatever the policy says.

import type { Stage } from '../types.js';

export const identityStage: Stage = {
  name: 'identity',
  kind: 'identity',
  run(ctx) {
    const process = ctx.subject.process;
    if (!process) {
      const why = ctx.subject.identityError;
      ctx.verdict = {
        verdict: 'deny',
        code: 'unidentified',
        stage: 'identity',
        reason: `the calling process could not be identified${why ? `: ${why}` : ''}`,
        rule_missing: 'an identifiable calling process',
        hint: 'actions whose process cannot be found in /proc are always refused',
      };
      return;
    }
    if (process.tainted) {
      ctx.verdict = {
        verdict: 'deny',
        code: 'binary_tainted',
        stage: 'identity',
        reason: `${process.exe} (pid ${process.pid}) is not trusted as itself: ${process.tainted}`,
        rule_missing: 'a caller that runs only its own, unmodified code',
        hint: 'code loaded from a path the sandbox can write (LD_PRELOAD, a planted library, a memory file) could do anything under an allowed name; run the program without it',
      };
    }
  },
};
