// `warden provider ...` and `warden inference ...`: credentials and model routes on the gateway.
// Values are read from the environment (--credential VAR) or stdin (--credential-stdin VAR),
// never from the command line, which `ps` shows; nothing printed ever includes one.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError, printJsonResult, printLine } from './output.js';
import { gatewayCall, print, toCliError } from './gateway-commands.js';

type SetExit = (code: number) => void;
type Mode = { json: boolean };
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

interface CredentialOptions {
  credential?: string[];
  credentialStdin?: string;
  endpoint?: string;
  host?: string[];
  json?: boolean;
}

export function registerProviderCommands(program: Command, setExit: SetExit, mode: Mode): void {
  const run = (json: boolean | undefined, fn: () => Promise<number>) => async () => {
    mode.json = Boolean(json);
    setExit(await fn().catch((error: unknown) => { throw toCliError(error); }));
  };
  const credentialOptions = (command: Command) => command
    .option('--credential <VAR>', 'read a credential from the environment variable VAR; the sandbox sees a placeholder in $VAR (repeatable)', collect)
    .option('--credential-stdin <VAR>', 'read the value of VAR from stdin instead')
    .option('--endpoint <URL>', 'base URL of a model provider (e.g. http://127.0.0.1:11434/v1); required for openai-compatible')
    .option('--host <HOST>', 'another host where the credentials may be used (repeatable; required for generic)', collect)
    .option('--json', 'print the provider as JSON (variable names only, never values)');

  const provider = program.command('provider').summary('register model providers and credentials (kept on the host, never in a sandbox)')
    .description('Model providers serve inference.local; every provider\'s credentials reach a sandbox created with --provider NAME as placeholders,\n' +
      'swapped for the real values by the proxy only on that provider\'s hosts. Types: warden provider types.');
  credentialOptions(provider.command('create').summary('register a provider').argument('<NAME>')
    .requiredOption('--type <TYPE>', 'openai, anthropic, nvidia, ollama, vllm, openai-compatible, github, gitlab, slack, telegram, discord, huggingface, generic'))
    .action((name: string, opts: CredentialOptions & { type: string }) => run(opts.json, async () => {
      const result = await gatewayCall('provider.create', { name, type: opts.type, credentials: readCredentials(opts), ...common(opts) });
      print(Boolean(opts.json), result, `provider ${result.name} (${result.type}) created${describe(result)}`);
      return 0;
    })());
  credentialOptions(provider.command('update').summary('change a provider\'s credentials, endpoint or hosts').argument('<NAME>'))
    .action((name: string, opts: CredentialOptions) => run(opts.json, async () => {
      const credentials = readCredentials(opts);
      const result = await gatewayCall('provider.update', { name, ...(Object.keys(credentials).length > 0 ? { credentials } : {}), ...common(opts) });
      print(Boolean(opts.json), result, `provider ${result.name} updated${describe(result)}`);
      return 0;
    })());
  provider.command('list').alias('ls').summary('list providers: NAME TYPE CREDENTIALS ENDPOINT')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, async () => {
      const rows = await gatewayCall('provider.list', {});
      if (opts.json) printJsonResult(rows);
      else table([['NAME', 'TYPE', 'CREDENTIALS', 'ENDPOINT'], ...rows.map((r) => [r.name, r.type, r.credentials.join(',') || '-', r.endpoint ?? '-'])]);
      if (!opts.json && rows.length === 0) printLine(2, 'no providers yet: `warden provider create NAME --type TYPE --credential VAR` makes one');
      return 0;
    })());
  provider.command('get').summary('show one provider (never its values)').argument('<NAME>')
    .option('--json', 'print it as JSON')
    .action((name: string, opts: { json?: boolean }) => run(opts.json, async () => {
      const result = await gatewayCall('provider.get', { name });
      if (opts.json) printJsonResult(result);
      else printLine(1, JSON.stringify(result, null, 2));
      return 0;
    })());
  provider.command('delete').alias('rm').summary('forget a provider and its credentials').argument('<NAME>')
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { json?: boolean }) => run(opts.json, async () => {
      const result = await gatewayCall('provider.delete', { name });
      print(Boolean(opts.json), result, `provider ${result.name} deleted`);
      return 0;
    })());
  provider.command('types').summary('the provider types warden ships, with their variables and hosts')
    .option('--json', 'print them as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, async () => {
      const { providerProfiles } = await import('../inference/index.js');
      const profiles = [...providerProfiles().values()];
      if (opts.json) printJsonResult(profiles);
      else table([['TYPE', 'VARIABLES', 'HOSTS', 'DESCRIPTION'], ...profiles.map((p) => [p.type, p.credentials.join(',') || '-', p.hosts.join(',') || '-', p.description])]);
      return 0;
    })());

  const inference = program.command('inference').summary('choose the provider and model behind inference.local (live, for every sandbox)')
    .description('Inside a sandbox, https://inference.local/v1 speaks OpenAI\'s API and https://inference.local/v1/messages Anthropic\'s;\n' +
      'each is routed to the provider set here, with its key added outside the sandbox.');
  inference.command('set').summary('route inference.local to a provider and model')
    .requiredOption('--provider <NAME>', 'a model provider (warden provider list)')
    .requiredOption('--model <MODEL>', 'the model every call uses (unless the policy lists inference.models)')
    .option('--no-verify', 'switch without first checking that the provider answers')
    .option('--json', 'print the routes as JSON')
    .action((opts: { provider: string; model: string; verify: boolean; json?: boolean }) => run(opts.json, async () => {
      const result = await gatewayCall('inference.set', { provider: opts.provider, model: opts.model, verify: opts.verify });
      print(Boolean(opts.json), result, routesText(result.routes));
      return 0;
    })());
  inference.command('get').summary('show the routes of inference.local')
    .option('--json', 'print the routes as JSON')
    .action((opts: { json?: boolean }) => run(opts.json, async () => {
      const result = await gatewayCall('inference.get', {});
      print(Boolean(opts.json), result, routesText(result.routes));
      return 0;
    })());
}

function common(opts: CredentialOptions): { endpoint?: string; hosts?: string[] } {
  return { ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}), ...(opts.host !== undefined ? { hosts: opts.host } : {}) };
}

/** The values named by --credential (from the environment) and --credential-stdin (from stdin). */
function readCredentials(opts: CredentialOptions): Record<string, string> {
  const credentials: Record<string, string> = {};
  const checkName = (name: string) => {
    if (name.includes('=')) throw new CliError('usage', `--credential ${name.split('=')[0]}: give the variable's name only; a value on the command line is visible to every user in ps`, 2);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new CliError('usage', `--credential ${name}: expected an environment variable name`, 2);
  };
  for (const name of opts.credential ?? []) {
    checkName(name);
    const value = process.env[name];
    if (value === undefined || value === '') throw new CliError('usage', `--credential ${name}: $${name} is not set here; export it first, or pipe the value in with --credential-stdin ${name}`, 2);
    credentials[name] = value;
    // A gateway this command starts inherits its environment: the value must not live on there.
    delete process.env[name];
  }
  if (opts.credentialStdin !== undefined) {
    checkName(opts.credentialStdin);
    const value = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (value === '') throw new CliError('usage', `--credential-stdin ${opts.credentialStdin}: stdin was empty`, 2);
    credentials[opts.credentialStdin] = value;
  }
  return credentials;
}

function describe(view: { credentials: string[]; endpoint: string | null; hosts: string[] }): string {
  const parts = [
    view.credentials.length > 0 ? `credentials ${view.credentials.join(', ')}` : '',
    view.endpoint !== null ? `endpoint ${view.endpoint}` : '',
    view.hosts.length > 0 ? `used on ${view.hosts.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}

type ShownRoute = { provider: string; model: string; endpoint: string | null };

function routesText(routes: { openai?: ShownRoute; anthropic?: ShownRoute }): string {
  const lines = (['openai', 'anthropic'] as const).map((api) => {
    const route = routes[api];
    const where = api === 'openai' ? 'https://inference.local/v1' : 'https://inference.local/v1/messages';
    return route ? `${where} (${api}) -> provider ${route.provider}, model ${route.model}${route.endpoint ? ` at ${route.endpoint}` : ''}`
      : `${where} (${api}) -> not set (warden inference set --provider NAME --model MODEL)`;
  });
  return lines.join('\n');
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) printLine(1, row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '));
}
