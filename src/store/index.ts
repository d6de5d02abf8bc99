// Public surface of the store: warden's state in SQLite under WARDEN_HOME (DESIGN.md "State").
import os from 'node:os';
import path from 'node:path';
import { openStore as openStoreIn } from './open.js';
import type { OpenStoreOptions, Store } from './types.js';

/** warden's state directory: WARDEN_HOME, default ~/.warden. */
export function wardenHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.WARDEN_HOME;
  return path.resolve(configured !== undefined && configured !== '' ? configured : path.join(os.homedir(), '.warden'));
}

/**
 * Opens the store in `home` (default: wardenHome()), creating it and migrating its schema.
 * Several processes may open the same store at once; writes serialise on SQLite's lock.
 */
export function openStore(home: string = wardenHome(), options: OpenStoreOptions = {}): Store {
  return openStoreIn(home, options);
}

export { DATABASE_FILE } from './open.js';
export { WARDEN_HOME_MODE, homeModeProblem, homeModeFix, secureHomeMode } from './home-mode.js';
export { AUDIT_GENESIS_HASH, SCHEMA_VERSION } from './migrations.js';
export { isValidSandboxName } from './tables.js';
export { StoreError, StoreVersionError, StoreSetupError, StoreConflictError, StoreInputError, StoreBusyError } from './errors.js';
export {
  APPROVAL_MODES,
  SANDBOX_STATES,
  type ApprovalMode,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalTable,
  type AuditPosition,
  type AuditRow,
  type AuditRowTable,
  type NewPolicyRevision,
  type NewSandbox,
  type OpenStoreOptions,
  type PolicyRevision,
  type PolicyRevisionTable,
  type SandboxRecord,
  type SandboxState,
  type SandboxTable,
  type Store,
  type StoreHealth,
} from './types.js';
