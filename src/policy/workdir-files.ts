// Which workdir files a policy's `workdir_files.writable` may name (the sandbox protects them).

/**
 * Files in the workdir that programs on the HOST run or obey later: git hooks and config (hooks,
 * core.fsmonitor, core.hooksPath, filters...), submodule URLs, editor and agent configuration,
 * direnv. A sandbox that could write them would run code outside the next time the user runs git
 * or opens the project, so they are read-only inside unless the policy's `workdir_files.writable`
 * lists them. Directories end with '/'.
 */
export const PROTECTED_WORKDIR_FILES: readonly string[] = Object.freeze([
  '.git/hooks/', '.git/config', '.gitmodules', '.vscode/', '.idea/', '.mcp.json', '.envrc',
  '.claude/settings.json', '.claude/commands/', '.claude/agents/',
]);
