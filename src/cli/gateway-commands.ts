// Commands served by the gateway: `gateway`, `sandbox`, `exec`, `connect`, and the live policy
// commands (`policy set|update|get|history|diff|explain|add-preset`).
import type { Command } from 'commander';
import path from 'node:path';
import { CliError, printJsonResult, printLine } from './output.js';
import { addLimitOptions, withLimitFlags, type LimitFlags } from './limits.js';
import { showingWarnings } from './policy.js';
import type { Op, OpReply, OpRequest } from '../gateway/index.js';
import { defaultPolicy, policyLoader, type Policy, type PolicyChange } from '../policy/index.js';
import { wardenHome } from '../store/index.js';

type SetExit = (code: number) => void;
type Mode = { json: boolean };
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
/** commander keeps the `--` that separates NAME from CMD when options pass through. */
const withoutSeparator = (command: string[]) => (command[0] === '--' ? command.slice(1) : command);

export function registerGatewayCommands(program: Command, policy: Command, setExit: SetExit, mode: Mode): void {
  const run = (json: boolean | undefined, fn: () => Promise<number>) => async () => {
    mode.json = Boolean(json);
    setExit(await fn().catch((error: unknown) => { throw toCliError(error); }));
  };

  const gateway = program.command('gateway').summary('start, inspect or stop the gateway daemon')
    .description('The gateway keeps named sandboxes and their egress proxies. Commands that need it start it on demand.');
  gateway.command('start').summary('start the gateway (in the background unless --foreground)')
    .option('--foreground', 'run in this process and log to stderr until stopped (Ctrl-C or `warden gateway stop`)')
    .option('--json', 'print the result as JSON')
    .action((opts: { foreground?: boolean; json?: boolean }) => run(opts.json, () => gatewayStart(Boolean(opts.foreground), Boolean(opts.json)))());
  gateway.command('status').summary('say whether the gateway runs, with its sandboxes')
    .description('Exit 0 when the gateway runs, 1 when it does not.')
    .option('--json', 'print the status as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, () => gatewayStatus(Boolean(opts.json)))());
  gateway.command('stop').summary('stop the gateway; running sandboxes stop with it and come back when it starts')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, () => gatewayStop(Boolean(opts.json)))());

  const sandbox = program.command('sandbox').summary('create and manage named sandboxes that live on')
    .description('Named sandboxes run under the gateway until stopped or deleted; their workdir and policy survive restarts.');
  addLimitOptions(sandbox.command('create')).summary('create and start a named sandbox')
    .argument('<NAME>', 'sandbox name (letters, digits, . _ -)')
    .argument('[CMD...]', 'optional main command, started with the sandbox (after --); its output goes to $WARDEN_HOME/sandboxes/NAME/main.log')
    .option('-p, --policy <file>', 'sandbox policy (OpenShell version: 1 YAML); default: the built-in default policy')
    .option('--preset <name>', 'add a shipped network preset (repeatable)', collect)
    .option('-w, --workdir <dir>', 'host directory mounted read-write at /sandbox, created when missing (default: $WARDEN_HOME/sandboxes/NAME/workdir)')
    .option('-e, --env <NAME=VALUE>', 'a variable for every process in the sandbox (repeatable)', collect)
    .option('--provider <NAME>', 'give the sandbox this provider\'s credentials as placeholders, swapped in on its hosts only (repeatable)', collect)
    .option('--approval-mode <mode>', 'deny (default): what the policy denies is refused; ask: it is held for an operator (`warden approvals`)')
    .option('--forward <PORT[:HOSTPORT]>', 'forward 127.0.0.1:HOSTPORT (default PORT) on the host to PORT inside, while the sandbox runs (repeatable)', collect)
    .option('--json', 'print the sandbox as JSON')
    .action((name: string, command: string[], opts: CreateOptions) => run(opts.json, () => sandboxCreate(name, withoutSeparator(command), opts))());
  sandbox.command('list').alias('ls').summary('list sandboxes: NAME STATE AGE POLICY-REV WORKDIR')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, () => sandboxList(Boolean(opts.json)))());
  sandbox.command('get').summary('show one sandbox').argument('<NAME>')
    .option('--json', 'print it as JSON')
    .action((name: string, opts: { json?: boolean }) => run(opts.json, () => sandboxSimple('sandbox.get', name, {}, Boolean(opts.json)))());
  for (const [verb, summary] of [['start', 'start a stopped sandbox'], ['stop', 'stop a sandbox (its workdir and policy stay)']] as const) {
    sandbox.command(verb).summary(summary).argument('<NAME>').option('--json', 'print the sandbox as JSON')
      .action((name: string, opts: { json?: boolean }) => run(opts.json, () => sandboxSimple(`sandbox.${verb}` as const, name, {}, Boolean(opts.json)))());
  }
  sandbox.command('update').summary('change a sandbox\'s live settings (the approval mode)').argument('<NAME>')
    .requiredOption('--approval-mode <mode>', 'deny: what the policy denies is refused; ask: it is held for an operator')
    .option('--json', 'print the sandbox as JSON')
    .action((name: string, opts: { approvalMode: string; json?: boolean }) => run(opts.json, async () => {
      const result = await gatewayCall('sandbox.update', { name, approvalMode: approvalModeArg(opts.approvalMode) });
      print(Boolean(opts.json), result, `sandbox ${result.name}: approval mode ${result.approvalMode ?? opts.approvalMode}`);
      return 0;
    })());
  sandbox.command('delete').alias('rm').summary('stop and remove a sandbox').argument('<NAME>')
    .option('--purge', "also delete warden's directory for it (default workdir, home, main.log) and its uid; a --workdir you gave is never deleted")
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { purge?: boolean; json?: boolean }) =>
      run(opts.json, () => sandboxSimple('sandbox.delete', name, { purge: Boolean(opts.purge) }, Boolean(opts.json)))());

  program.command('exec').summary('run a command inside a running sandbox; its exit code passes through')
    .argument('<NAME>').argument('<CMD...>', 'the command and its arguments (after --)')
    .option('-e, --env <NAME=VALUE>', 'an extra variable for this command (repeatable)', collect)
    .option('-t, --tty', 'give the command a terminal (default: when stdin and stdout are terminals)')
    .option('-T, --no-tty', 'never give the command a terminal')
    .option('-i, --interactive', 'accepted for the Docker habit (`exec -it`): stdin is always passed on')
    .option('--no-denials', "do not print the sandbox's network denials on stderr while the command runs")
    .option('--json', 'on failure, print a machine-readable error on stdout')
    // Options end at the command: `warden exec dev ls -la` passes -la to ls, as `warden run` does.
    // Commander reads the options before NAME; those between NAME and CMD are read by execArgs.
    .passThroughOptions()
    .addHelpText('after', '\nExamples:\n  warden exec dev -- npm test\n  warden exec dev ls -la\n  warden exec -it dev bash')
    .action((name: string, command: string[], opts: ExecOptions) => {
      const parsed = execArgs(command, opts);
      return run(parsed.opts.json, async () => {
        if (parsed.error !== undefined) throw new CliError('usage', `${parsed.error}\nSee \`warden exec --help\`.`, 2);
        if (parsed.command.length === 0) throw new CliError('usage', 'missing CMD: `warden exec NAME [--] CMD [ARGS...]`\nSee `warden exec --help`.', 2);
        return (await import('./exec.js')).execCommand(name, parsed.command, { env: parsed.opts.env ?? [], tty: parsed.opts.tty, denials: parsed.opts.denials });
      })();
    });
  program.command('connect').summary('an interactive shell inside a running sandbox (terminal, resize, Ctrl-C)')
    .argument('<NAME>')
    .option('--shell <path>', 'the shell to start inside (default: bash when the sandbox has it, else sh)')
    .option('--no-denials', "do not print the sandbox's network denials while the shell runs")
    .action((name: string, opts: { shell?: string; denials?: boolean }) =>
      run(false, async () => (await import('./exec.js')).connectCommand(name, opts.shell, opts.denials !== false))());

  policy.command('set').summary('replace a sandbox\'s policy with a file (a new revision)')
    .argument('<NAME>').argument('<FILE>')
    .option('--reason <text>', 'why, recorded with the revision')
    .option('--wait', 'return once the proxy enforces it (always the case: the change is pushed before the reply)')
    .option('--json', 'print the revision as JSON')
    .action((name: string, file: string, opts: { reason?: string; json?: boolean }) =>
      run(opts.json, async () => revise('policy.set', name, { policy: await loadPolicyArg(file), reason: opts.reason }, Boolean(opts.json)))());
  policy.command('update').summary('change a sandbox\'s policy incrementally (a new revision)')
    .argument('<NAME>')
    .option('--add-endpoint <HOST:PORT[:ACCESS[:PROTOCOL[:ENFORCEMENT]]]>', 'allow an endpoint (with --binary, --allowed-ip), OpenShell\'s syntax', collect)
    .option('--remove-endpoint <HOST:PORT>', 'remove an endpoint (from --to only, when given)', collect)
    .option('--add-allow <HOST:PORT:METHOD:PATH>', 'add an allow rule to an inspected endpoint', collect)
    .option('--add-deny <HOST:PORT:METHOD:PATH>', 'add a deny rule to an inspected endpoint', collect)
    .option('--binary <path>', 'binary allowed to reach the added endpoint (repeatable; globs like /usr/bin/* allowed)', collect)
    .option('--allowed-ip <ip>', 'private address the added endpoint may resolve to (repeatable)', collect)
    .option('--add-binary <path>', 'add a binary to the network policy named by --to', collect)
    .option('--remove-binary <path>', 'remove a binary (from --to, or every policy)', collect)
    .option('--to <policy>', 'the network policy every change applies to (required by --add-binary)')
    .option('--add-rule <METHOD PATH>', 'add an L7 rule to the endpoint named by --endpoint', collect)
    .option('--remove-rule <METHOD PATH>', 'remove an L7 rule from the endpoint named by --endpoint', collect)
    .option('--endpoint <HOST:PORT>', 'endpoint for --add-rule/--remove-rule')
    .option('--reason <text>', 'why, recorded with the revision')
    .option('--dry-run', 'print what would change, and change nothing')
    .option('--wait', 'return once the proxy enforces it (always the case)')
    .option('--json', 'print the revision as JSON')
    .action((name: string, opts: UpdateOptions) =>
      run(opts.json, async () => {
        const changes = await updateChanges(opts);
        if (opts.dryRun) return (await import('./policy-history.js')).policyDryRun(name, changes, Boolean(opts.json));
        return revise('policy.update', name, { changes, reason: opts.reason }, Boolean(opts.json));
      })());
  policy.command('add-preset').summary('add a shipped network preset to a sandbox\'s policy')
    .argument('<NAME>').argument('<PRESET>')
    .option('--reason <text>', 'why, recorded with the revision (default: "preset PRESET")')
    .option('--wait', 'return once the proxy enforces it (always the case)')
    .option('--json', 'print the revision as JSON')
    .action((name: string, preset: string, opts: { reason?: string; json?: boolean }) =>
      run(opts.json, () => revise('policy.add-preset', name, { preset, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) }, Boolean(opts.json)))());
  policy.command('get').summary('print a sandbox\'s policy (current, or --rev N)').argument('<NAME>')
    .option('--rev <n>', 'a past revision')
    .option('--json', 'print as JSON (default: YAML)')
    .action((name: string, opts: { rev?: string; json?: boolean }) =>
      run(opts.json, async () => (await import('./policy-history.js')).policyGet(name, opts.rev, Boolean(opts.json)))());
  policy.command('history').summary('list a sandbox\'s policy revisions: who, when, why').argument('<NAME>')
    .option('--json', 'print as JSON')
    .action((name: string, opts: { json?: boolean }) =>
      run(opts.json, async () => (await import('./policy-history.js')).policyHistory(name, Boolean(opts.json)))());
  policy.command('diff').summary('what changed between two revisions').argument('<NAME>').argument('<A>').argument('<B>')
    .option('--json', 'print as JSON')
    .action((name: string, a: string, b: string, opts: { json?: boolean }) =>
      run(opts.json, async () => (await import('./policy-history.js')).policyDiff(name, a, b, Boolean(opts.json)))());
  policy.command('explain').summary('which stage and rule decide an action, and why (for a sandbox, or a policy file)')
    .description('Runs the action through the same checkpoint that decides it in a sandbox, without recording it.\n' +
      'Give a sandbox NAME, or --policy FILE instead of NAME. Exit 0 when allowed, 1 when not, 2 on bad usage.')
    .usage('[NAME] <TARGET> --binary PATH [options]   (or: --policy FILE <TARGET> --binary PATH)')
    .argument('<ARGS...>', '[NAME] TARGET: TARGET is a URL (https://host/path?query) or HOST:PORT')
    .option('--policy <file>', 'explain against this policy file instead of a sandbox\'s current policy')
    .requiredOption('--binary <path>', 'the program acting, as a path inside the sandbox')
    .option('--ancestor <path>', 'an ancestor of the program, nearest parent first (repeatable)', collect)
    .option('--method <method>', 'HTTP method (default GET)')
    .option('--path <raw-path>', 'with HOST:PORT: the request path and query, used byte for byte')
    .option('--resolve <host:address>', 'what a name resolves to, so the address check can be explained (repeatable)', collect)
    .option('--json', 'print the explanation as JSON')
    .action((args: string[], opts: ExplainOptions) =>
      run(opts.json, async () => (await import('./policy-history.js')).policyExplain(args, opts))());
}

export interface ExplainOptions {
  policy?: string; binary: string; ancestor?: string[]; method?: string; path?: string; resolve?: string[]; json?: boolean;
}

export interface UpdateOptions {
  addEndpoint?: string[]; removeEndpoint?: string[]; binary?: string[]; allowedIp?: string[];
  addBinary?: string[]; removeBinary?: string[]; to?: string; addRule?: string[]; removeRule?: string[]; endpoint?: string;
  addAllow?: string[]; addDeny?: string[]; dryRun?: boolean;
  reason?: string; json?: boolean;
}

/** The changes `warden policy update` asks for; `--to` scopes every one of them to that network policy. */
export async function updateChanges(opts: UpdateOptions): Promise<PolicyChange[]> {
  const { parseEndpointSpec, parseEndpointChangeSpec, parseRuleSpec } = await policyLoader();
  const usage = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      throw new CliError('usage', (error as Error).message, 2);
    }
  };
  const endpoint = (spec: string) => usage(() => parseEndpointSpec(spec));
  const scope = opts.to !== undefined ? { policyName: opts.to } : {};
  const rule = (spec: string) => {
    const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(spec);
    if (!match) throw new CliError('usage', `rule ${JSON.stringify(spec)}: write "METHOD /path" (e.g. "GET /simple/**")`, 2);
    if (!opts.endpoint) throw new CliError('usage', '--add-rule/--remove-rule need --endpoint HOST:PORT', 2);
    return { ...endpoint(opts.endpoint), method: match[1]!.toUpperCase(), path: match[2]!, ...scope };
  };
  const changes: PolicyChange[] = [
    ...(opts.addEndpoint ?? []).map((spec): PolicyChange => ({
      op: 'add-endpoint', ...usage(() => parseEndpointChangeSpec(spec)), ...(opts.binary ? { binaries: opts.binary } : {}),
      ...(opts.allowedIp ? { allowedIps: opts.allowedIp } : {}), ...scope,
    })),
    ...(opts.removeEndpoint ?? []).map((spec): PolicyChange => ({ op: 'remove-endpoint', ...endpoint(spec), ...scope })),
    ...(opts.addBinary ?? []).map((p): PolicyChange => {
      if (!opts.to) throw new CliError('usage', '--add-binary needs --to POLICY (`warden policy get NAME` shows the policy names)', 2);
      return { op: 'add-binary', path: p, policyName: opts.to };
    }),
    ...(opts.removeBinary ?? []).map((p): PolicyChange => ({ op: 'remove-binary', path: p, ...(opts.to ? { policyName: opts.to } : {}) })),
    ...(opts.addRule ?? []).map((spec): PolicyChange => ({ op: 'add-rule', ...rule(spec) })),
    ...(opts.removeRule ?? []).map((spec): PolicyChange => ({ op: 'remove-rule', ...rule(spec) })),
    ...(opts.addAllow ?? []).map((spec): PolicyChange => ({ op: 'add-rule', ...usage(() => parseRuleSpec(spec)), ...scope })),
    ...(opts.addDeny ?? []).map((spec): PolicyChange => ({ op: 'add-deny', ...usage(() => parseRuleSpec(spec)), ...scope })),
  ];
  if (changes.length === 0) {
    throw new CliError('usage', 'nothing to change: give --add-endpoint, --remove-endpoint, --add-allow, --add-deny, --add-binary, --remove-binary, --add-rule or --remove-rule', 2);
  }
  return changes;
}

async function gatewayStart(foreground: boolean, json: boolean): Promise<number> {
  const home = wardenHome();
  const { gatewayRunning, runGateway, callGateway, gatewayPaths } = await import('../gateway/index.js');
  if (await gatewayRunning(home)) {
    const status = await callGateway(home, 'ping', {}, { autoStart: false }) as { pid: number };
    if (foreground) throw new CliError('already_running', `a gateway (pid ${status.pid}) already runs for ${home}: \`warden gateway stop\` it first`, 1);
    print(json, { running: true, pid: status.pid, started: false }, `gateway already running (pid ${status.pid})`);
    return 0;
  }
  if (!foreground) {
    const status = await callGateway(home, 'ping', {}, { progress: (m) => printLine(2, m) }) as { pid: number };
    print(json, { running: true, pid: status.pid, started: true }, `gateway started (pid ${status.pid}), log: ${gatewayPaths(home).log}`);
    return 0;
  }
  const log = (line: string) => printLine(2, `${new Date().toISOString()} ${line}`);
  const handle = await runGateway(home, log);
  const onSignal = () => void handle.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await handle.done;
  return 0;
}

async function gatewayStatus(json: boolean): Promise<number> {
  const home = wardenHome();
  const { gatewayRunning, callGateway } = await import('../gateway/index.js');
  if (!(await gatewayRunning(home))) {
    const message = `gateway not running for ${home} (commands start it on demand; \`warden gateway start\` starts it now)`;
    print(json, { running: false, home }, message, { code: 'gateway_not_running', message });
    return 1;
  }
  const status = await callGateway(home, 'ping', {}, { autoStart: false }) as { pid: number; sandboxes: number; auditFault?: string };
  print(json, { running: true, home, ...status }, `gateway running (pid ${status.pid}) for ${home}, ${status.sandboxes} sandbox(es) running` +
    (status.auditFault ? `\nFAULT: ${status.auditFault}; run \`warden audit verify\`` : ''),
  status.auditFault ? { code: 'audit_fault', message: `${status.auditFault}; run \`warden audit verify\`` } : undefined);
  return status.auditFault ? 1 : 0;
}

async function gatewayStop(json: boolean): Promise<number> {
  const home = wardenHome();
  const { gatewayRunning, callGateway } = await import('../gateway/index.js');
  if (!(await gatewayRunning(home))) {
    print(json, { stopped: false, running: false }, 'gateway not running');
    return 0;
  }
  const { pid } = await callGateway(home, 'gateway.stop', {}, { autoStart: false }) as { pid: number };
  // Stopped means gone: wait until the process has exited and released its sandboxes.
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  print(json, { stopped: true, pid }, `gateway ${pid} stopped`);
  return 0;
}

function approvalModeArg(mode: string): 'deny' | 'ask' {
  if (mode !== 'deny' && mode !== 'ask') throw new CliError('usage', `--approval-mode is deny or ask, not ${JSON.stringify(mode)}`, 2);
  return mode;
}

interface CreateOptions extends LimitFlags {
  approvalMode?: string;
  policy?: string;
  preset?: string[];
  workdir?: string;
  env?: string[];
  provider?: string[];
  forward?: string[];
  json?: boolean;
}

async function sandboxCreate(name: string, command: string[], opts: CreateOptions): Promise<number> {
  const { parseEnvAssignments } = await import('../sandbox/index.js');
  let env: Record<string, string>;
  try {
    env = parseEnvAssignments(opts.env ?? []);
  } catch (error) {
    throw new CliError('usage', (error as Error).message, 2);
  }
  const approvalMode = opts.approvalMode !== undefined ? approvalModeArg(opts.approvalMode) : undefined;
  let policy = opts.policy ? await loadPolicyArg(opts.policy) : defaultPolicy();
  const { loadPreset, mergePolicies } = await policyLoader();
  for (const preset of opts.preset ?? []) policy = mergePolicies(policy, loadPreset(preset));
  policy = await withLimitFlags(policy, opts);
  const forwards = opts.forward !== undefined ? (await import('./launch.js')).parseForwardSpecs(opts.forward) : [];
  const result = await gatewayCall('sandbox.create', {
    ...(forwards.length > 0 ? { forwards } : {}),
    name, policy, presets: opts.preset ?? [], ...(opts.workdir ? { workdir: path.resolve(opts.workdir) } : {}), env, command,
    ...(opts.provider !== undefined ? { providers: opts.provider } : {}), ...(approvalMode !== undefined ? { approvalMode } : {}),
  });
  const reused = result.reusedWorkdir ? `\nusing the workdir kept when an earlier sandbox ${result.name} was deleted: ${result.reusedWorkdir} ` +
    `(to start empty instead: \`warden sandbox delete ${result.name} --purge\`, then create it again)` : '';
  const forwarded = (result.forwards ?? []).map((f) => `\nforwarding 127.0.0.1:${f.hostPort} -> ${result.name}:${f.port}${f.active ? '' : `: ${f.problem ?? 'not active'}`}`).join('');
  print(Boolean(opts.json), result, `sandbox ${result.name} ${result.state} (policy rev ${result.policyRev}, workdir ${result.workdir}${result.approvalMode === 'ask' ? ', approval mode ask' : ''})${reused}${forwarded}`);
  return 0;
}

interface ExecOptions { env?: string[]; tty?: boolean; json?: boolean; denials?: boolean; interactive?: boolean }

/**
 * The options given between NAME and CMD (`warden exec dev -e A=1 -t -- cmd`), read up to `--`
 * or the first word that is not one of exec's options; the rest is CMD, untouched.
 */
export function execArgs(args: string[], given: ExecOptions): { opts: ExecOptions; command: string[]; error?: string } {
  const opts: ExecOptions = { ...given, env: [...(given.env ?? [])] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { opts, command: args.slice(i + 1) };
    if (arg === '-e' || arg === '--env') {
      const value = args[++i];
      if (value === undefined) return { opts, command: [], error: `option '${arg} <NAME=VALUE>' argument missing` };
      opts.env!.push(value);
    } else if (arg.startsWith('--env=')) {
      opts.env!.push(arg.slice('--env='.length));
    } else if (arg === '--json') {
      opts.json = true;
    } else if (arg === '--no-denials') {
      opts.denials = false;
    } else if (arg === '--tty' || arg === '--no-tty' || arg === '--interactive') {
      if (arg !== '--interactive') opts.tty = arg === '--tty';
    } else if (/^-[itT]+$/.test(arg)) {
      for (const flag of arg.slice(1)) if (flag !== 'i') opts.tty = flag === 't';
    } else if (arg.startsWith('-') && arg !== '-') {
      return { opts, command: [], error: `unknown option '${arg}' before the command (put the command after \`--\` if it starts with a dash)` };
    } else {
      return { opts, command: args.slice(i) };
    }
  }
  return { opts, command: [] };
}

/** `sandbox get NAME` for a person: one `key: value` line each. */
function describeSandbox(view: OpReply<'sandbox.get'>): string {
  const state = view.mainExitCode === undefined ? view.state : `${view.state}, main command exited (code ${view.mainExitCode})`;
  const lines: Array<[string, string | undefined]> = [
    ['name', view.name], ['state', state], ['created', view.createdAt], ['policy rev', String(view.policyRev)],
    ['presets', view.presets.length > 0 ? view.presets.join(', ') : undefined], ['workdir', view.workdir],
    ['pid', view.pid === undefined ? undefined : String(view.pid)], ['started', view.startedAt],
    ['execs', view.execs === undefined ? undefined : String(view.execs)],
    ['main command', view.command.length > 0 ? view.command.join(' ') : undefined],
    ['env', Object.keys(view.env).length > 0 ? Object.keys(view.env).join(', ') : undefined],
    ['blueprint', view.blueprint],
    ['forwards', view.forwards && view.forwards.length > 0 ? view.forwards.map((f) => `127.0.0.1:${f.hostPort} -> ${f.port}${f.active ? '' : ' (inactive)'}`).join(', ') : undefined],
  ];
  return lines.filter(([, value]) => value !== undefined).map(([key, value]) => `${`${key}:`.padEnd(14)}${value}`).join('\n');
}

/** What `sandbox delete` says: what it removed, what it kept and where, and how to remove that. */
export function deletedMessage(name: string, result: { removed: string[]; kept: string[] }, purge: boolean): string {
  const lines = [`sandbox ${name} deleted`];
  for (const file of result.removed) lines.push(`removed ${file}`);
  for (const file of result.kept) lines.push(`kept ${file}`);
  if (!purge && result.kept.length > 0) {
    lines.push(`\`warden sandbox create ${name}\` uses what was kept again; \`warden sandbox delete ${name} --purge\` removes warden's copies`);
  }
  if (purge && result.kept.length > 0) lines.push('(a workdir you gave with --workdir is yours: warden never deletes it)');
  return lines.join('\n');
}

async function sandboxList(json: boolean): Promise<number> {
  const rows = await noSandboxesYet() ? [] : await gatewayCall('sandbox.list', {});
  if (json) {
    printJsonResult(rows);
    return 0;
  }
  const table = [['NAME', 'STATE', 'AGE', 'POLICY-REV', 'PID', 'WORKDIR'],
    ...rows.map((r) => [r.name, r.mainExitCode === undefined ? r.state : `exited (code ${r.mainExitCode})`, age(r.createdAt), String(r.policyRev), r.pid ? String(r.pid) : '-', r.workdir])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) printLine(1, row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '));
  if (rows.length === 0) printLine(2, 'no sandboxes yet: `warden sandbox create NAME` makes one');
  return 0;
}

async function sandboxSimple(op: 'sandbox.get' | 'sandbox.start' | 'sandbox.stop' | 'sandbox.delete', name: string, extra: { purge?: boolean }, json: boolean): Promise<number> {
  if (op === 'sandbox.delete') {
    const result = await gatewayCall(op, { name, ...extra });
    print(json, result, deletedMessage(name, result, Boolean(extra.purge)));
    return 0;
  }
  const result = await gatewayCall(op, { name });
  if (op === 'sandbox.get' && !json) printLine(1, describeSandbox(result));
  else print(json, result, `sandbox ${result.name} ${result.mainExitCode === undefined ? result.state : `${result.state}, main command exited (code ${result.mainExitCode})`}`);
  return 0;
}

type RevisionOp = 'policy.set' | 'policy.update' | 'policy.add-preset';

async function revise<O extends RevisionOp>(op: O, name: string, args: Omit<OpRequest<O>, 'name'>, json: boolean): Promise<number> {
  const result = await gatewayCall(op, { name, ...args } as OpRequest<O>);
  if (result.unchanged) {
    // Already in force is success: exit 0, and say so.
    const why = (result.inForce ?? []).map((line) => `\n  ${line}`).join('');
    print(json, result, `sandbox ${name}: already in force (policy rev ${result.rev}); nothing was changed${why}`);
    return 0;
  }
  const { renderDiff } = await policyLoader();
  const skipped = (result.inForce ?? []).map((line) => `\nalready in force, skipped: ${line}`).join('');
  print(json, result, `sandbox ${name}: policy rev ${result.rev}${result.live ? ', enforced now' : ' (applies when the sandbox starts)'}${skipped}\n${renderDiff(result.diff as never)}`);
  return 0;
}

export async function loadPolicyArg(file: string): Promise<Policy> {
  const { loadPolicyFile, PolicyError } = await policyLoader();
  try {
    return await showingWarnings(loadPolicyFile(file));
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError('policy_invalid', `invalid policy:\n${error.format()}\nNothing was changed.`, 1);
    throw new CliError('policy_unreadable', `cannot read ${file}: ${(error as Error).message}`, 1);
  }
}

export async function gatewayCall<O extends Op>(op: O, args: OpRequest<O>): Promise<OpReply<O>> {
  const { callGateway } = await import('../gateway/index.js');
  return callGateway(wardenHome(), op, args, { progress: (m) => printLine(2, m) });
}

/**
 * True when no gateway runs and WARDEN_HOME has no sandbox: then `sandbox list` answers without
 * starting a daemon (or creating WARDEN_HOME). With sandboxes, the gateway is started: it
 * restores the running ones, so the list shows their true state.
 */
async function noSandboxesYet(): Promise<boolean> {
  const { gatewayRunning } = await import('../gateway/index.js');
  if (await gatewayRunning(wardenHome())) return false;
  const { openExistingStore } = await import('./audit-io.js');
  const store = openExistingStore();
  if (store === undefined) return true;
  try {
    return store.sandboxes.list().length === 0;
  } finally {
    store.close();
  }
}

/** Prints a result: the JSON envelope, or the line for a person. */
export function print(json: boolean, value: unknown, human: string, failure?: { code: string; message: string }): void {
  if (json) printJsonResult(value, failure);
  else printLine(1, human);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function age(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** Gateway errors carry a code and a message that says what to do; the exit code is 1. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error && error.name === 'GatewayError') {
    return new CliError((error as Error & { code: string }).code, error.message, 1);
  }
  if (error instanceof Error && ['PresetError', 'PolicyMergeError'].includes(error.constructor.name)) return new CliError('policy_invalid', error.message, 1);
  return CliError.from(error);
}
