// Public surface of the audit component: warden's append-only, hash-chained log of every verdict
// and every change (DESIGN.md "Governance model: Audit"; format in docs/audit.md).
//
// SECURITY: the log keeps payloads forever and exports them, so every payload passes the one set of
// redaction patterns (redact.ts) when it is appended: known token shapes, values named as secrets
// (query parameters, flags, headers, JSON keys) and every registered secret's exact value. Callers
// still keep secrets out of payloads; this is the net under them.
//
// Atomic with other state: call appendAudit/appendMany inside store.transaction(() => ...) to
// commit a change (e.g. a policy revision) and its audit record together or not at all.
export {
  appendAudit,
  appendMany,
  auditTipProblem,
  AuditEntryError,
  AuditIntegrityError,
  MAX_PAYLOAD_BYTES,
  type AuditEntry,
  type AuditRecord,
} from './append.js';
export { auditTail, followAudit, SUMMARY_CHARS, type AuditTailRecord } from './follow.js';
export { createAuditWriter, type AuditWriter, type AuditWriterOptions } from './writer.js';
export { ANCHOR_FILE, newestAnchor, startAnchoring, type Anchor, type Anchoring, type AnchoringOptions } from './anchors.js';
export { verifyAudit, auditHead, type VerifyOptions, type VerifyResult } from './verify.js';
export { exportAudit, AUDIT_EXPORT_FORMATS, type AuditExportFormat, type ExportOptions } from './export.js';
export { toOcsf, OCSF_VERSION } from './ocsf.js';
export { canonicalJson, CanonicalJsonError } from './canonical.js';
export { GENESIS_HASH, hashInput, recordHash, type HashedFields } from './chain.js';
export { redactText, redactArgv, redactValue, registerSecret, forgetSecrets, isSecretName, REDACTED } from './redact.js';
export { DECISION_KINDS, type DecisionKind, type DecisionRecord } from './records.js';
export { decisionNotice, terminalSafe, hex as terminalHex } from './terminal.js';
