import { policyLoader } from '../policy/index.js';
import { printLine } from './output.js';

export async function presetListCommand(opts: { json: boolean }): Promise<number> {
  const { listPresets } = await policyLoader();
  const presets = listPresets();
  if (opts.json) {
    printLine(1, JSON.stringify(presets.map(({ name, description, policies, endpoints }) => ({ name, description, policies, endpoints })), null, 2));
    return 0;
  }
  const width = Math.max(4, ...presets.map((p) => p.name.length));
  printLine(1, `${'NAME'.padEnd(width)}  ENDPOINTS  DESCRIPTION`);
  for (const p of presets) printLine(1, `${p.name.padEnd(width)}  ${String(p.endpoints).padStart(9)}  ${p.description}`);
  return 0;
}
