// Public surface of the checkpoint: the one decision pipeline every action passes
// (DESIGN.md "The one idea"). Enforcement points (the egress proxy, later the inference router,
// the bus and the tool gateway) build an Action and a Subject, call Checkpoint.decide, and
// enforce the Verdict it returns; they never decide on their own.

export { Checkpoint, createCheckpoint, type CheckpointOptions, type DecideOptions, type Recorder } from './checkpoint.js';
export { explainAction, ExplainError, type ExplainRequest, type Explanation, type ExplainedEndpoint } from './explain.js';
export { buildRecord } from './record.js';
export { APPROVABLE_CODES, approvalStage, type ApprovalMode } from './stages/approvals.js';
export { STAGE_KINDS } from './types.js';
export type {
  Action, ApprovalDraft, BusMessageAction, ConnectionAction, ContentAction, Decision, DecisionCode, DraftChange, ExplainTrace, HttpRequestAction, ModelCallAction,
  NetworkAction, NetworkFacts, NetworkLayer, PermissionRequestAction, Resolver, Stage, StageContext, StageKind, Subject, Tier,
  ToolCallAction, Verdict, VerdictStage,
} from './types.js';
