// What inference.local checks in a request body before it acts on it: a JSON shape it can afford
// to parse and re-serialise (bounded depth and size of structure), the server-side tools a call
// would make the provider run, and how many tokens a call may spend (held against the budget
// while it runs).

/** Containers nested deeper than this are refused (re-serialising them would exhaust the stack). */
const MAX_DEPTH = 64;
/** Objects and arrays in one body: bounds what parsing may allocate (each costs far more than its bytes). */
const MAX_CONTAINERS = 100_000;
/** Output tokens assumed for a call that names no limit. */
const DEFAULT_OUTPUT_RESERVATION = 4096;

/** A reason to refuse the body unparsed, or undefined. One pass over the bytes. */
export function jsonShapeProblem(body: Buffer): string | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // a backslash escapes the next byte
      else if (byte === 0x22) inString = false;
      continue;
    }
    if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > MAX_DEPTH) return `the JSON body nests deeper than ${MAX_DEPTH} levels`;
      if (++containers > MAX_CONTAINERS) return `the JSON body has more than ${MAX_CONTAINERS} objects and arrays`;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return undefined;
}

/** Tools the provider itself would run for this call (fetch URLs, reach MCP servers, run code). */
export function serverTools(body: Record<string, unknown>): string[] {
  const found = new Set<string>();
  if (body.mcp_servers !== undefined) found.add('mcp_servers');
  if (body.container !== undefined) found.add('container');
  if (body.web_search_options !== undefined) found.add('web_search_options');
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools as unknown[]) {
      const type = typeof tool === 'object' && tool !== null ? (tool as { type?: unknown }).type : undefined;
      // Function tools (OpenAI `function`, Anthropic `custom` or untyped) run in the agent, inside
      // the sandbox; Anthropic's client tools (bash, text_editor, computer) do too.
      if (typeof type !== 'string' || type === 'function' || type === 'custom' || /^(bash|text_editor|computer)(_|$)/.test(type)) continue;
      found.add(type);
    }
  }
  return [...found].sort();
}

/** Tokens held against the budget while a call runs: its input (about 4 bytes a token) and its output limit. */
export function reservation(body: Record<string, unknown> | undefined, bytes: number): number {
  const limit = [body?.max_tokens, body?.max_completion_tokens, body?.max_output_tokens]
    .find((value): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0);
  return Math.ceil(bytes / 4) + (limit ?? DEFAULT_OUTPUT_RESERVATION);
}
