// What a blueprint becomes for one sandbox: its environment, its read-only files, its commands,
// with the blueprint's ${variables} filled in. Values are substituted into single strings (one
// argument, one JSON string) and never re-parsed, so a chat message cannot become an option or a
// second command, and a model name cannot change a configuration file's structure.

import { type Blueprint, BlueprintError } from './schema.js';
import { layerPath } from './provision.js';

export interface RenderValues {
  /** The inference route's provider and model (the agent calls inference.local, which uses them). */
  provider: string;
  model: string;
  /** A secret of this sandbox's agent (its gateway's token), made at launch and kept on the host. */
  gateway_token: string;
}

export interface Rendered {
  env: Record<string, string>;
  files: Array<{ path: string; content: string }>;
  command: string[] | undefined;
}

const VARIABLE = /\$\{([a-z_]+)\}/g;

/** `${name}` in `text` replaced by `values[name]`; an unknown name is an error. */
export function substitute(text: string, values: Record<string, string>, where: string): string {
  return text.replace(VARIABLE, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new BlueprintError(`${where}: unknown variable \${${name}} (known: ${Object.keys(values).map((v) => `\${${v}}`).join(', ')})`);
    return value;
  });
}

function substituteDeep(value: unknown, values: Record<string, string>, where: string): unknown {
  if (typeof value === 'string') return substitute(value, values, where);
  if (Array.isArray(value)) return value.map((item, i) => substituteDeep(item, values, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteDeep(item, values, `${where}.${key}`)]));
  }
  return value;
}

function baseValues(blueprint: Blueprint, values: RenderValues): Record<string, string> {
  return { ...values, mount: blueprint.mount };
}

/** The sandbox's environment, files and main command for `values`. */
export function renderBlueprint(blueprint: Blueprint, values: RenderValues): Rendered {
  const vars = baseValues(blueprint, values);
  const env: Record<string, string> = { PATH: layerPath(blueprint) };
  for (const [key, value] of Object.entries(blueprint.env)) env[key] = substitute(value, vars, `${blueprint.name}: env.${key}`);
  const files = blueprint.files.map((file, i) => ({
    path: file.path,
    content: file.json !== undefined
      ? JSON.stringify(substituteDeep(file.json, vars, `${blueprint.name}: files[${i}]`), null, 2) + '\n'
      : substitute(file.text!, vars, `${blueprint.name}: files[${i}]`),
  }));
  const command = blueprint.command?.map((arg) => substitute(arg, vars, `${blueprint.name}: command`));
  return { env, files, command };
}

/** The chat command for one message. */
export function chatCommand(blueprint: Blueprint, values: RenderValues, text: string): string[] {
  const vars = { ...baseValues(blueprint, values), text };
  return blueprint.chat.command.map((arg) => substitute(arg, vars, `${blueprint.name}: chat.command`));
}

/** A port's URL on the host once forwarded. */
export function portUrl(blueprint: Blueprint, port: Blueprint['ports'][number], values: RenderValues & { host_port: string }): string | undefined {
  return port.url === undefined ? undefined : substitute(port.url, { ...baseValues(blueprint, values), host_port: values.host_port }, `${blueprint.name}: ports.url`);
}

/**
 * The agent's answer in the chat command's output: the text itself, or the strings at a path of
 * its JSON (`payloads.*.text`: every element's `text`), joined by blank lines.
 */
export function extractAnswer(blueprint: Blueprint, stdout: string): { answer: string; json?: unknown } {
  if (blueprint.chat.answer === 'text') return { answer: stdout.replace(/\n+$/, '') };
  const json = parseLastJson(stdout);
  if (json === undefined) throw new BlueprintError(`${blueprint.name} printed no JSON answer:\n${stdout.slice(-2000)}`);
  const found: string[] = [];
  const walk = (value: unknown, parts: string[]) => {
    if (parts.length === 0) {
      if (typeof value === 'string') found.push(value);
      return;
    }
    const [head, ...rest] = parts;
    if (head === '*') {
      if (Array.isArray(value)) for (const item of value) walk(item, rest);
      return;
    }
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, head!)) walk((value as Record<string, unknown>)[head!], rest);
  };
  walk(json, blueprint.chat.answer.json.split('.'));
  return { answer: found.join('\n\n'), json };
}

/** The JSON document in `text`: all of it, or the last line that parses (tools may print before it). */
function parseLastJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // look for the document's start
  }
  const start = text.search(/^[{[]/m);
  if (start >= 0) {
    try {
      return JSON.parse(text.slice(start));
    } catch {
      // not a document from there
    }
  }
  for (const line of text.split('\n').reverse()) {
    try {
      return JSON.parse(line);
    } catch {
      // next
    }
  }
  return undefined;
}
