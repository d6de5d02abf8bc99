// The policy a sandbox gets when none is given: enough of the system to run programs, the
// workdir and /tmp writable, and no network at all. Kept free of the YAML and schema code so
// that using it does not load them.

import type { Policy } from './types.js';

/** System directories the default sandbox may read. Host secrets live elsewhere (home, /root, /var). */
const SYSTEM_READ_ONLY = ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc'];

/**
 * The documented default policy: system directories read-only, /sandbox (the workdir) and
 * /tmp writable, run as the unprivileged `sandbox` user, no network_policies (so no network),
 * no Landlock section. A fresh object on every call: callers may change it freely.
 */
export function defaultPolicy(): Policy {
  return {
    version: 1,
    filesystem_policy: { include_workdir: true, read_only: [...SYSTEM_READ_ONLY], read_write: ['/tmp'] },
    landlock: {},
    process: { run_as_user: 'sandbox' },
    network_policies: {},
  };
}
