// Public surface of the gateway: the daemon that keeps named sandboxes (DESIGN.md "Components"),
// and the client the CLI uses to talk to it over WARDEN_HOME/gateway.sock.
export { runGateway, type GatewayHandle } from './daemon.js';
export { callGateway, openExec, openWatch, gatewayRunning, connectGateway, startGatewayProcess, type ClientOptions } from './client.js';
export { GatewayError } from './protocol.js';
export { OPS, type Op, type OpArgs, type OpReply, type OpRequest } from './api.js';
export { gatewayPaths, sandboxDirectory } from './paths.js';
export { readBlueprintAttachment, type BlueprintAttachment, type SandboxView } from './manager.js';
export type { ForwardView } from './forwards.js';
export type { ApprovalEvent, ApprovalView } from './approvals.js';
