// `warden blueprint list`, `warden launch NAME` and `warden forward NAME PORT [HOSTPORT]`: an agent
// from a blueprint, provisioned once into a read-only layer, in a named sandbox of the gateway,
// its model behind inference.local and its dashboard forwarded to the host's loopback.
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { CliError, printJsonResult, printLine } from './output.js';
import { gatewayCall, print, toCliError } from './gateway-commands.js';
import type { Blueprint } from '../blueprint/index.js';
import { wardenHome } from '../store/index.js';

type SetExit = (code: number) => void;
type Mode = { json: boolean };
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export interface LaunchOptions {
  name?: string;
  chat?: string;
  json?: boolean;
  workdir?: string;
  env?: string[];
  preset?: string[];
  provider?: string[];
  approvalMode?: string;
  forward?: boolean;
  port?: string;
  policy?: string;
  verbose?: boolean;
  timeout?: string;
}

export function registerLaunchCommands(program: Command, setExit: SetExit, mode: Mode): void {
  const run = (json: boolean | undefined, fn: () => Promise<number>) => async () => {
    mode.json = Boolean(json);
    setExit(await fn().catch((error: unknown) => { throw launchError(error); }));
  };

  const blueprint = program.command('blueprint').summary('list the agents warden can launch (blueprints)')
    .description('A blueprint says how to provision an agent (its runtime and pinned packages), its default policy, its configuration, ' +
      'its commands and its ports. `warden launch NAME` uses one. See docs/launch.md.');
  blueprint.command('list').alias('ls').summary('list blueprints: NAME PACKAGES API PORTS LAYER')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, () => blueprintList(Boolean(opts.json)))());

  blueprint.command('provision').summary('provision a blueprint\'s layer now (launch does it when needed)')
    .description('Builds the blueprint\'s read-only layer from the npm registry (pinned versions, integrity checked, no install ' +
      'scripts on the host), or reports the cached one. For images and CI: a later launch then starts at once.')
    .addHelpText('after', '\nExample:\n  warden blueprint provision openclaw')
    .argument('<NAME>', 'the blueprint')
    .option('--json', 'print the layer as JSON')
    .action((name: string, opts: { json?: boolean }) => run(opts.json, async () => {
      const { loadBlueprint, layersDir, provision } = await import('../blueprint/index.js');
      const home = wardenHome();
      const started = Date.now();
      const { layer, cached } = await provision(loadBlueprint(name), { home, dir: layersDir(home), progress: (line) => printLine(2, `warden: ${line}`) });
      print(Boolean(opts.json), { layer: layer.path, cached, tookMs: Date.now() - started, manifest: layer.manifest },
        `${layer.manifest.id}: ${cached ? 'cached' : 'provisioned'} at ${layer.path} (${layer.manifest.installed} packages, ${Math.round(layer.manifest.bytes / 1e6)} MB)`);
      return 0;
    })());

  program.command('launch').summary('provision an agent (openclaw, claude-code) and start it in a sandbox')
    .description('Provisions the blueprint NAME (`warden blueprint list`) into a cached, read-only layer (once: later launches reuse it), ' +
      'then creates its sandbox (default: named like the blueprint), or starts it again, with the blueprint\'s default policy; the agent\'s ' +
      'model calls go through inference.local to the route set with `warden inference set` (no key inside the sandbox).\n\n' +
      'Without --chat the agent runs as a service (OpenClaw: its gateway, the dashboard forwarded to 127.0.0.1:18789) and launch ' +
      'returns once it answers; with --chat TEXT one agent turn runs and its answer is printed on stdout. See docs/launch.md.')
    .argument('<NAME>', 'the blueprint (openclaw, claude-code)')
    .option('-n, --name <sandbox>', 'the sandbox\'s name (default: the blueprint\'s)')
    .option('--chat <text>', 'run one agent turn with this message and print the answer')
    .option('-w, --workdir <dir>', 'host directory mounted read-write at /sandbox (default: $WARDEN_HOME/sandboxes/NAME/workdir)')
    .option('-e, --env <NAME=VALUE>', 'a variable for the agent (repeatable)', collect)
    .option('-p, --policy <file>', 'the sandbox\'s policy instead of the blueprint\'s (it needs an inference section)')
    .option('--preset <name>', 'add a network preset for the agent, e.g. telegram, slack, discord (repeatable)', collect)
    .option('--provider <name>', 'give the agent this provider\'s credentials as placeholders (repeatable), e.g. a telegram provider', collect)
    .option('--approval-mode <mode>', 'deny (default) or ask: what the policy denies is held for an operator (`warden approvals`)')
    .option('--port <hostport>', 'the host port for the agent\'s dashboard (default: the same as inside)')
    .option('--no-forward', 'do not forward the agent\'s ports to the host')
    .option('--timeout <seconds>', 'how long to wait for the agent to be ready (default 120)')
    .option('-v, --verbose', 'print the agent\'s own messages (stderr) of a --chat turn')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  warden launch openclaw\n  warden launch openclaw --chat \'summarise /sandbox/notes.md\'\n' +
      '  warden launch claude-code --chat \'write hello.py\' --workdir ./app\n  warden launch openclaw --name work --port 28789')
    .action((name: string, opts: LaunchOptions) => run(opts.json, async () => (await import('./launch-run.js')).launchCommand(name, opts))());

  program.command('forward').summary('forward 127.0.0.1:HOSTPORT on the host to a port inside a sandbox')
    .description('Forwards 127.0.0.1:HOSTPORT (default: PORT) on the host to 127.0.0.1:PORT inside sandbox NAME, from the host into the ' +
      'sandbox only, while the sandbox runs and whenever it starts again, until --stop. Without PORT: lists NAME\'s forwards.')
    .argument('<NAME>', 'the sandbox')
    .argument('[PORT]', 'the port inside the sandbox')
    .argument('[HOSTPORT]', 'the port on the host\'s 127.0.0.1 (1024-65535; default: PORT)')
    .option('--stop', 'stop forwarding PORT')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  warden forward openclaw 18789\n  warden forward dev 8080 18080\n  warden forward dev 8080 --stop\n  warden forward dev')
    .action((name: string, port: string | undefined, hostPort: string | undefined, opts: { stop?: boolean; json?: boolean }) =>
      run(opts.json, () => forwardCommand(name, port, hostPort, opts))());
}

async function blueprintList(json: boolean): Promise<number> {
  const { listBlueprints, layersDir, listLayers, layerId } = await import('../blueprint/index.js');
  const blueprints = listBlueprints();
  const layers = listLayers(layersDir(wardenHome()));
  const rows = blueprints.map((b) => {
    const layer = layers.find((l) => l.manifest.id === layerId(b));
    return {
      name: b.name, description: b.description, api: b.api,
      packages: b.packages.map((p) => ({ name: p.name, version: p.version, integrity: p.integrity })),
      runtime: b.runtime ? { name: b.runtime.name, version: b.runtime.version, integrity: b.runtime.integrity } : null,
      ports: b.ports.map((p) => p.port), service: b.command !== undefined, layer: layerId(b),
      provisioned: layer !== undefined, ...(layer ? { layerPath: layer.path, bytes: layer.manifest.bytes } : {}),
    };
  });
  if (json) {
    printJsonResult(rows);
    return 0;
  }
  const table = [['NAME', 'PACKAGES', 'API', 'PORTS', 'LAYER'], ...rows.map((r) => [
    r.name, [...r.packages.map((p) => `${p.name}@${p.version}`), ...(r.runtime ? [`${r.runtime.name}@${r.runtime.version}`] : [])].join(' '),
    r.api, r.ports.join(',') || '-', r.provisioned ? `${r.layer} (${Math.round((r.bytes ?? 0) / 1e6)} MB)` : 'not provisioned yet',
  ])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) printLine(1, row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '));
  return 0;
}

async function forwardCommand(name: string, portArg: string | undefined, hostArg: string | undefined, opts: { stop?: boolean; json?: boolean }): Promise<number> {
  const json = Boolean(opts.json);
  if (portArg === undefined) {
    if (opts.stop) throw new CliError('usage', '--stop needs the PORT to stop forwarding: `warden forward NAME PORT --stop`', 2);
    const rows = await gatewayCall('forward.list', { name });
    if (json) printJsonResult(rows);
    else if (rows.length === 0) printLine(2, `sandbox ${name} forwards nothing: \`warden forward ${name} PORT [HOSTPORT]\``);
    else for (const r of rows) printLine(1, `127.0.0.1:${r.hostPort} -> ${name}:${r.port}  ${r.active ? 'active' : r.problem ?? 'opens when the sandbox starts'}`);
    return 0;
  }
  const port = portNumber(portArg, 'PORT');
  if (opts.stop) {
    if (hostArg !== undefined) throw new CliError('usage', '--stop takes PORT only', 2);
    const removed = await gatewayCall('forward.remove', { name, port });
    print(json, removed, `stopped forwarding 127.0.0.1:${removed.hostPort} to ${name}:${removed.port}`);
    return 0;
  }
  const hostPort = hostArg === undefined ? port : portNumber(hostArg, 'HOSTPORT');
  const view = await gatewayCall('forward.add', { name, port, hostPort });
  print(json, view, `forwarding 127.0.0.1:${view.hostPort} -> ${name}:${view.port}${view.active ? '' : ' (opens when the sandbox starts)'}; ` +
    `kept until \`warden forward ${name} ${view.port} --stop\``);
  return 0;
}

export function portNumber(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 1 || port > 65535) throw new CliError('usage', `${what} ${JSON.stringify(text)} is not a port (1-65535)`, 2);
  return port;
}

/** `--forward PORT[:HOSTPORT]` of `sandbox create`. */
export function parseForwardSpecs(specs: string[]): Array<{ port: number; hostPort: number }> {
  return specs.map((spec) => {
    const [port, host, ...rest] = spec.split(':');
    if (rest.length > 0 || port === undefined) throw new CliError('usage', `--forward ${JSON.stringify(spec)}: write PORT or PORT:HOSTPORT`, 2);
    const inside = portNumber(port, '--forward PORT');
    return { port: inside, hostPort: host === undefined ? inside : portNumber(host, '--forward HOSTPORT') };
  });
}

function launchError(error: unknown): CliError {
  if (error instanceof Error && error.name === 'BlueprintError') {
    // An unknown blueprint is a bad argument; anything else (provisioning, a layer) is a failure.
    return /^no blueprint named /.test(error.message) ? new CliError('unknown_blueprint', error.message, 2) : new CliError('blueprint', error.message, 1);
  }
  return toCliError(error);
}

/** Answers when something speaks HTTP on 127.0.0.1:port (any status); false when nothing does yet. */
export async function httpAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  // Loaded here, not with the CLI: node:http costs every other command start-up time.
  const http = await import('node:http');
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

export function newToken(): string {
  return randomBytes(24).toString('hex');
}

export type { Blueprint };
