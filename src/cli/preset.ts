import { policyLoader } from '../policy/index.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, printJsonResult, printLine } from './output.js';

export async function presetListCommand(opts: { json: boolean }): Promise<number> {
  const { listPresets } = await policyLoader();
  const presets = listPresets();
  if (opts.json) {
    printJsonResult(presets.map(({ name, description, policies, endpoints }) => ({ name, description, policies, endpoints })));
    return 0;
  }
  const width = Math.max(4, ...presets.map((p) => p.name.length));
  printLine(1, `${'NAME'.padEnd(width)}  ENDPOINTS  DESCRIPTION`);
  for (const p of presets) printLine(1, `${p.name.padEnd(width)}  ${String(p.endpoints).padStart(9)}  ${p.description}`);
  return 0;
}

/** `warden preset show NAME`: the preset as shipped (its YAML, comments included), or --json. */
export async function presetShowCommand(name: string, opts: { json: boolean }): Promise<number> {
  const { loadPreset, defaultPresetDir, PresetError } = await policyLoader();
  let policy;
  try {
    policy = loadPreset(name);
  } catch (error) {
    if (error instanceof PresetError) throw new CliError('unknown_preset', `${error.message} (\`warden preset list\` lists them)`, 1);
    throw error;
  }
  if (opts.json) printJsonResult(policy);
  else printLine(1, readFileSync(path.join(defaultPresetDir(), `${name}.yaml`), 'utf8').trimEnd());
  return 0;
}
