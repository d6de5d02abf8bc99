// `warden onboard`'s command line; the command itself (onboard-run.ts) is loaded when it runs,
// so that other commands do not pay for loading it.
import type { Command } from 'commander';
import { toCliError } from './gateway-commands.js';

type SetExit = (code: number) => void;
type Mode = { json: boolean };
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The tiers as the help lists them (a test keeps this equal to the onboard component's TIERS). */
export const TIERS_HELP = 'restricted (inference.local only), balanced (the default: + npm, pypi, github reads), ' +
  'permissive (+ every read-only registry and GitHub writes)';

export interface OnboardOptions {
  nonInteractive?: boolean;
  provider?: string;
  name?: string;
  model?: string;
  credential?: string;
  endpoint?: string;
  tier?: string;
  preset?: string[];
  json?: boolean;
}

const EXAMPLES = `
Examples:
  warden onboard                                  # the wizard
  export NVIDIA_API_KEY=...
  warden onboard --non-interactive --provider nvidia --model nvidia/nemotron-3-super-120b-a12b --preset slack
  warden onboard --non-interactive --provider ollama --model llama3.2 --tier restricted
  warden onboard --non-interactive --provider openai-compatible --endpoint http://127.0.0.1:8000/v1 --credential MY_KEY --model m

Then: warden launch openclaw. See docs/onboard.md.`;

export function registerOnboardCommand(program: Command, setExit: SetExit, mode: Mode): void {
  program.command('onboard')
    .summary('set up a model provider, the inference route and the policy tier for agents (wizard, or --non-interactive)')
    .description('Set up one model provider (its key stays on the host), route inference.local to one of its models, and choose ' +
      'the policy tier and presets `warden launch` gives agents. The provider must answer before anything is saved.\n\n' +
      'Rerunning is safe: it shows what exists, an answer left out keeps it, and an identical rerun changes nothing ' +
      '("already in force"). Keys are read from an environment variable or typed at a hidden prompt, never from the command line.\n\n' +
      `Tiers: ${TIERS_HELP}.`)
    .option('--non-interactive', 'take every answer from the flags and the environment and never prompt (scripts, CI)')
    .option('--provider <TYPE>', 'model provider type: nvidia, openai, anthropic, ollama, vllm, openai-compatible')
    .option('--name <NAME>', "the provider's name (default: the one onboarded before with this type, else TYPE)")
    .option('--model <MODEL>', 'the model inference.local serves (default on a rerun: the current one)')
    .option('--credential <VAR>', "read the key from $VAR (default: the type's variable, e.g. NVIDIA_API_KEY; a stored key is kept unless this is given)")
    .option('--endpoint <URL>', 'the provider\'s base URL (required for openai-compatible; ollama and vllm default to 127.0.0.1)')
    .option('--tier <TIER>', 'policy tier: restricted, balanced, permissive (default on a first run: balanced)')
    .option('--preset <NAME>', 'a preset besides the tier\'s (repeatable; replaces the chosen ones; `none` clears them)', collect)
    .option('--json', 'print the result as JSON (the wizard still asks on stderr)')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: OnboardOptions) => {
      mode.json = Boolean(opts.json);
      setExit(await (await import('./onboard-run.js')).onboardCommand(opts).catch((error: unknown) => { throw toCliError(error); }));
    });
}
