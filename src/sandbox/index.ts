export { runInSandbox, SandboxSetupError, type NetworkBridge, type RunOptions, type RunResult, type SandboxFile, type SandboxService } from './run.js';
export { NetworkBridgeError } from './netns.js';
export { CommandNotFoundError } from './command.js';
export { MissingToolError, findTool } from './tools.js';
export { LandlockRequiredError, findLandlockHelper, probeLandlockAbi } from './landlock.js';
export { MountPlanError } from './mounts.js';
export { SandboxUserError, SANDBOX_ACCOUNT, resolveSandboxUser } from './host-user.js';
export { EnvError, parseEnvAssignments } from './environment.js';
export { DEFAULT_LIMITS, type SandboxLimits } from './limits.js';
export {
  encodeFrame, FrameDecoder, FrameError, frameJson, FRAME, PTY_HELPER_INSIDE, EXEC_SIGNALS,
  type Frame, type FrameType, type ExecSignal, type TtySize,
} from './frames.js';
export { findNativeHelper, supervisorScript } from './native.js';
