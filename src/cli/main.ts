import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, printLine, reportError, type OutputMode } from './output.js';
import { addLimitOptions, type LimitFlags } from './limits.js';
import { deferExtraCaCertificates } from './trust.js';

/** Exit codes of warden itself, chosen not to collide with a typical CMD's. */
export const EXIT = { usage: 2, setup: 125 } as const;

/** warden's package.json, found by walking up from this module (compiled or bundled). */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'warden') return pkg.version;
    } catch {
      // not here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Examples for the commands whose help does not add its own. */
const EXAMPLES: Record<string, string[]> = {
  'run': ["warden run -- sh -c 'echo hello from $(hostname)'", 'warden run --policy policy.yaml --workdir ./app -- npm test', 'warden run --preset pypi -- pip download requests'],
  'policy validate': ['warden policy validate policy.yaml', 'generate-policy | warden policy validate -'],
  'policy set': ['warden policy set dev policy.yaml --reason "allow the docs site"'],
  'policy update': ['warden policy update dev --add-endpoint pypi.org:443 --binary /usr/bin/python3 --wait', 'warden policy update dev --remove-endpoint pypi.org:443'],
  'policy add-preset': ['warden policy add-preset dev npm --reason "the agent runs npm install"'],
  'policy get': ['warden policy get dev', 'warden policy get dev --rev 2 --json'],
  'policy history': ['warden policy history dev'],
  'policy diff': ['warden policy diff dev 1 2'],
  'policy explain': ['warden policy explain dev --binary /usr/bin/curl https://pypi.org/simple/'],
  'preset list': ['warden preset list'],
  'doctor': ['warden doctor', 'warden doctor --json'],
  'gateway start': ['warden gateway start', 'warden gateway start --foreground'],
  'gateway status': ['warden gateway status'],
  'gateway stop': ['warden gateway stop'],
  'sandbox create': ['warden sandbox create dev --policy policy.yaml --workdir ./app', 'warden sandbox create job --preset npm -- npm test'],
  'sandbox list': ['warden sandbox list', 'warden sandbox list --json'],
  'sandbox get': ['warden sandbox get dev'],
  'sandbox start': ['warden sandbox start dev'],
  'sandbox stop': ['warden sandbox stop dev'],
  'sandbox delete': ['warden sandbox delete dev            # keeps its workdir and home', 'warden sandbox delete dev --purge    # removes them too'],
  'connect': ['warden connect dev', 'warden connect dev --shell /bin/sh'],
  'provider create': ['warden provider create gh --type github --credential GITHUB_TOKEN'],
  'provider update': ['warden provider update gh --credential GITHUB_TOKEN'],
  'provider list': ['warden provider list'],
  'provider get': ['warden provider get gh'],
  'provider delete': ['warden provider delete gh'],
  'provider types': ['warden provider types'],
  'inference set': ['warden inference set --provider nvidia --model nvidia/nemotron-3-super-120b-a12b'],
  'inference get': ['warden inference get'],
  'sandbox update': ['warden sandbox update dev --approval-mode ask', 'warden sandbox update dev --approval-mode deny'],
  'approvals list': ['warden approvals list', 'warden approvals list --all --json'],
  'approvals approve': ['warden approvals approve 12            # this request only', 'warden approvals approve 12 --always   # adds the narrowest rule'],
  'approvals deny': ['warden approvals deny 12'],
  'approvals watch': ['warden approvals watch', 'warden approvals watch --json | my-chat-bridge'],
  'term': ['warden term'],
  'blueprint list': ['warden blueprint list', 'warden blueprint list --json'],
};

type Registration = { program: Command; policy: Command; setExit: (code: number) => void; mode: { json: boolean } };

type Register = (r: Registration) => void;

/**
 * The command groups, most defined in modules of their own, with the top-level commands (and
 * aliases) each adds, in the order `warden --help` lists them. A module is loaded only when the
 * command line names one of its commands, or names none that is known (help, completion, a typo):
 * then all are. `warden run` then does not pay for the others (about 30 M instructions, some 15 ms
 * of its start-up). test/cli/usage.test.ts checks each list against what its module registers.
 */
export const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<Register> }> = [
  { commands: ['audit', 'logs'], load: async () => {
    const { registerAuditCommands, registerLogsCommand } = await import('./audit-commands.js');
    return (r) => {
      registerAuditCommands(r.program, r.setExit, r.mode);
      registerLogsCommand(r.program, r.setExit, r.mode);
    };
  } },
  { commands: ['gateway', 'sandbox', 'exec', 'connect', 'policy'], load: async () => {
    const { registerGatewayCommands } = await import('./gateway-commands.js');
    return (r) => registerGatewayCommands(r.program, r.policy, r.setExit, r.mode);
  } },
  { commands: ['approvals'], load: async () => {
    const { registerApprovalCommands } = await import('./approvals.js');
    return (r) => registerApprovalCommands(r.program, r.setExit, r.mode);
  } },
  { commands: ['term'], load: () => Promise.resolve(registerTermCommand) },
  { commands: ['provider', 'inference'], load: async () => {
    const { registerProviderCommands } = await import('./provider-commands.js');
    return (r) => registerProviderCommands(r.program, r.setExit, r.mode);
  } },
  { commands: ['onboard'], load: async () => {
    const { registerOnboardCommand } = await import('./onboard.js');
    return (r) => registerOnboardCommand(r.program, r.setExit, r.mode);
  } },
  { commands: ['blueprint', 'launch', 'forward'], load: async () => {
    const { registerLaunchCommands } = await import('./launch.js');
    return (r) => registerLaunchCommands(r.program, r.setExit, r.mode);
  } },
  { commands: ['scan'], load: async () => {
    const { registerScanCommand } = await import('./scan.js');
    return (r) => registerScanCommand(r.program, r.setExit, r.mode);
  } },
];

function registerTermCommand({ program, setExit }: Registration): void {
  program.command('term').summary('full-screen view for an operator: sandboxes, pending approvals, live decisions (keys: ?)')
    .description('A full-screen terminal view of the gateway: sandboxes, requests held for approval (approve once, always, or deny),\n' +
      'and decisions as they happen. Press ? inside for the keys, q to quit. See docs/approvals.md.')
    .action(async () => {
      setExit(await (await import('./term.js')).termCommand());
    });
}

/** The top-level commands buildProgram defines itself, before the groups; `completion` (which lists them all) is not one. */
const INLINE_COMMANDS = ['run', 'policy', 'preset', 'doctor'];

/** The command groups the command line `argv` needs: all, unless it names a known command, or asks for the version. */
function neededModules(argv: readonly string[]): typeof COMMAND_MODULES {
  const first = argv[0];
  if (first === '-V' || first === '--version') return [];
  const naming = COMMAND_MODULES.filter((m) => first !== undefined && m.commands.includes(first));
  return naming.length > 0 || (first !== undefined && INLINE_COMMANDS.includes(first)) ? naming : COMMAND_MODULES;
}

async function buildProgram(argv: readonly string[], setExit: (code: number) => void, mode: { json: boolean }): Promise<Command> {
  const program = new Command('warden')
    .description('Run AI agents and any command in a sandbox they cannot talk their way out of.')
    .version(packageVersion(), '-V, --version', 'print the warden version')
    .helpOption('-h, --help', 'show help for warden or a command')
    .addHelpCommand('help [command]', 'show help for a command')
    .enablePositionalOptions()
    .showHelpAfterError(true)
    .exitOverride()
    .addHelpText('after', `
Examples:
  warden run -- sh -c 'echo hello from $(hostname); id'
  warden run --policy policy.yaml --workdir ./app -- npm test
  warden run --preset pypi -- pip download requests
  warden policy validate policy.yaml
  warden preset list
  warden doctor
  warden sandbox create dev --policy policy.yaml --workdir ./app
  warden exec dev -- npm test ; warden connect dev
  warden policy update dev --add-endpoint pypi.org:443 --binary /usr/bin/python3 --wait
  warden logs dev -f ; warden audit verify
  warden launch openclaw ; warden launch openclaw --chat 'summarise /sandbox/notes.md'
  warden forward dev 8080 18080

Environment:
  WARDEN_HOME          state directory (default ~/.warden)
  WARDEN_UID_BASE      first of the 65536 host uids sandboxes get when warden runs as root
                       (default 1800000000)

Docs: docs/commands.md, docs/policy.md, docs/security-model.md`);

  const runCommandSpec = program
    .command('run')
    .summary('run a command in a new sandbox, removed when it exits')
    .description([
      'Run CMD in a new sandbox and remove the sandbox when CMD exits.',
      "stdin, stdout and stderr pass through; warden exits with CMD's exit code (128+N when CMD was killed by " +
        'signal N). Ctrl-C, SIGTERM and other signals are passed on to CMD, and when CMD exits every process it ' +
        'started is gone. When stdin and stdout are terminals, CMD runs on a terminal of its own inside the sandbox ' +
        '(job control; Ctrl-C and Ctrl-Z reach its jobs; window size follows yours).',
      'Without --policy the default policy applies: system directories read-only, /sandbox and /tmp writable, ' +
        'no network at all.',
      'Exit codes of warden itself: 125 the sandbox could not be set up (the message says why), 126 CMD is not ' +
        'executable, 127 CMD was not found inside the sandbox, 2 bad usage.',
    ].join('\n\n'))
    .usage('[options] -- CMD [ARGS...]')
    .option('-p, --policy <file>', 'sandbox policy (OpenShell version: 1 YAML); default: the built-in default policy')
    .option('--preset <name>', 'add a shipped network preset to the policy (repeatable; `warden preset list` shows them)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('-w, --workdir <dir>', 'host directory mounted read-write at /sandbox (default: a fresh temporary directory)')
    .option('-e, --env <NAME=VALUE>', 'set a variable inside the sandbox (repeatable); nothing else of your environment goes in',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('-n, --name <name>', 'sandbox name, shown as hostname warden-<name> (default: run-<random>)')
    .option('--events <file>', 'also append each network decision here as a JSON line (all of them go to the audit log: `warden logs NAME`)')
    .option('--json', 'on failure, print a machine-readable error object on stdout')
    .argument('<CMD...>', 'the command and its arguments')
    .passThroughOptions();
  addLimitOptions(runCommandSpec).action(async (command: string[], opts: RunCliOptions) => {
    mode.json = Boolean(opts.json);
    setExit(await (await import('./run.js')).runCommand(command, opts));
  });

  const policy = program.command('policy').summary('check policy files; show and change the policies of named sandboxes')
    .description('Check policy files, and show, change and explain the policies of named sandboxes (revisions are kept).');
  policy
    .command('validate')
    .summary('check policy files without running anything')
    .description('Check policy files without running anything. Exit 0 when every file is valid, 1 otherwise. ' +
      'Each problem is reported as FILE:LINE:COLUMN: PATH: what was found and what was expected.')
    .argument('<FILE...>', 'policy or preset files (- reads standard input)')
    .option('--json', 'print one result object per file as JSON')
    .action(async (files: string[], opts: { json?: boolean }) => {
      mode.json = Boolean(opts.json);
      setExit(await (await import('./policy.js')).policyValidateCommand(files, { json: Boolean(opts.json) }));
    });

  const preset = program
    .command('preset')
    .summary('list and show the network presets shipped with warden')
    .description('Network presets are named bundles of network policies (npm, pypi, github, ...) to add to a policy.');
  preset
    .command('show')
    .summary('print a shipped preset (its YAML)')
    .argument('<NAME>', 'the preset (`warden preset list` lists them)')
    .option('--json', 'print it as JSON, as warden reads it')
    .addHelpText('after', '\nExample:\n  warden preset show pypi')
    .action(async (name: string, opts: { json?: boolean }) => {
      mode.json = Boolean(opts.json);
      setExit(await (await import('./preset.js')).presetShowCommand(name, { json: Boolean(opts.json) }));
    });
  preset
    .command('list')
    .summary('list the shipped presets')
    .description('List the shipped network presets with the number of endpoints each allows.')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      mode.json = Boolean(opts.json);
      setExit(await (await import('./preset.js')).presetListCommand({ json: Boolean(opts.json) }));
    });

  program
    .command('doctor')
    .summary('check that this machine can run warden sandboxes')
    .description('Check every prerequisite (bubblewrap, user namespaces, seccomp, Landlock, the sandbox uid, WARDEN_HOME) ' +
      'and print a fix for each failure. Exit 0 when all pass, 1 otherwise.')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }) => {
      mode.json = Boolean(opts.json);
      setExit(await (await import('./doctor.js')).doctorCommand({ json: Boolean(opts.json) }));
    });

  // Loaded together, registered in order (the order of the help).
  const registrations = await Promise.all(neededModules(argv).map((module) => module.load()));
  for (const register of registrations) register({ program, policy, setExit, mode });

  program
    .command('completion')
    .summary('print a shell completion script (bash or zsh)')
    .argument('<SHELL>', 'bash or zsh')
    .addHelpText('after', '\nExamples:\n  eval "$(warden completion bash)"    # in ~/.bashrc\n  eval "$(warden completion zsh)"     # in ~/.zshrc')
    .action(async (shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CliError('usage', `no completion for ${JSON.stringify(shell)}: bash or zsh`, 2);
      const { completionScript } = await import('./completion.js');
      const { writeAllSync } = await import('./audit-io.js');
      writeAllSync(1, completionScript(program, shell));
    });

  // A usage error is one line and where to look, not the whole help; every command's help ends
  // with an example (the ones registered with their own examples keep those).
  const pointToHelp = (command: Command, names: string[]): void => {
    command.showHelpAfterError(`(see \`${['warden', ...names].join(' ')} --help\`)`);
    const examples = EXAMPLES[names.join(' ')];
    if (examples !== undefined) command.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  ${e}`).join('\n')}`);
    for (const sub of command.commands) pointToHelp(sub, [...names, sub.name()]);
  };
  pointToHelp(program, []);
  return program;
}

export interface RunCliOptions extends LimitFlags {
  policy?: string;
  preset?: string[];
  workdir?: string;
  env?: string[];
  name?: string;
  events?: string;
  json?: boolean;
}

/**
 * Runs the CLI and returns the process exit code. `deferredCaFile`: NODE_EXTRA_CA_CERTS when the
 * launcher kept it from Node (bin/warden.js), for warden's own TLS connections.
 */
export async function main(argv: string[], start: { deferredCaFile?: string | undefined } = {}): Promise<number> {
  deferExtraCaCertificates(start.deferredCaFile);
  let exitCode = 0;
  const mode: { json: boolean } = { json: argv.includes('--json') && !argv.slice(0, argv.indexOf('--json')).includes('--') };
  const program = await buildProgram(argv, (code) => { exitCode = code; }, mode);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || (error.code === 'commander.help' && error.exitCode === 0)) return 0;
      // commander has already printed the problem and the usage on stderr.
      if (mode.json) printLine(1, JSON.stringify({ ok: false, error: { code: 'usage', message: error.message.replace(/^error: /, '') } }));
      return EXIT.usage;
    }
    const outputMode: OutputMode = mode.json ? 'json' : 'human';
    return reportError(error instanceof CliError ? error : CliError.from(error), outputMode);
  }
}
