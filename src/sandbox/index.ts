export { runInSandbox, SandboxSetupError, type NetworkBridge, type RunOptions, type RunResult, type SandboxFile, type SandboxIo, type SandboxService, type ProcessSource } from './run.js';
export { NetworkBridgeError, openSandboxConnector, type SandboxConnector } from './netns.js';
export { CommandNotFoundError, CommandNotRunnableError } from './command.js';
export { MissingToolError, findTool } from './tools.js';
export { LandlockRequiredError, findLandlockHelper, probeLandlockAbi } from './landlock.js';
export { MountPlanError } from './mounts.js';
export { WorkdirError, createWorkdir, prepareHome } from './workdir.js';
export { SandboxUserError, resolveSandboxUser, homeInsideFor } from './host-user.js';
export { EnvError, parseEnvAssignments } from './environment.js';
export { DEFAULT_LIMITS, defaultResources, resolveResources, type ResourceSettings, type SandboxLimits, type SandboxResources } from './limits.js';
export { detectCgroups, removeAbandonedCgroups, type CgroupSupport } from './cgroups.js';
export { leaseSandboxUid, leaseRunUid, releaseSandboxUid, uidRange, UidLeaseError, UID_RANGE_SIZE } from './uids.js';
export { peerCredentials, makeDirectoriesSafely, HostAddonError, type PeerCredentials } from './host-native.js';
export {
  encodeFrame, FrameDecoder, FrameError, FRAME, EXEC_SIGNALS, MAX_CHANNELS, OUTPUT_WINDOW, STDIN_WINDOW, SUPERVISOR_INSIDE,
  encodeStart, decodeStart, encodeResize, decodeResize, encodeSignal, decodeSignal, encodeU32, decodeU32, decodeExit,
  encodeStartFailed, decodeStartFailed, isTtySize, startProblem,
  type Frame, type FrameType, type ExecSignal, type TtySize, type StartPayload, type StartFailedPayload,
} from './frames.js';
export { SupervisorConnection, type ExecChannel, type ExecRequest, type ExecSink } from './supervisor-client.js';
export { findNativeHelper, requireNativeHelper, NativeHelperMissingError } from './native.js';
export { childrenOf, namespaceOf, readProcStat, type ProcStat } from './procfs.js';
