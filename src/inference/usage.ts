// Token usage from a model API's response, read as it streams past (never buffered for the
// client): the `usage` object of a JSON answer, or of the server-sent events of a streamed one
// (OpenAI's final chunk or response.completed, Anthropic's message_start and message_delta).

const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_EVENT_LINE = 1024 * 1024;

export interface Usage {
  input: number;
  output: number;
}

export class UsageMeter {
  private readonly streamed: boolean;
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private line = '';
  private readonly decoder = new TextDecoder();
  readonly usage: Usage = { input: 0, output: 0 };

  constructor(contentType: string | undefined) {
    this.streamed = (contentType ?? '').toLowerCase().includes('text/event-stream');
  }

  push(chunk: Buffer): void {
    if (!this.streamed) {
      if (this.jsonBytes + chunk.length <= MAX_JSON_BYTES) this.json.push(chunk);
      this.jsonBytes += chunk.length;
      return;
    }
    // One pass over the text: only `data:` lines that mention "usage" are parsed.
    const text = this.line + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let usageAt = text.indexOf('"usage"');
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      if (usageAt >= 0 && usageAt < start) usageAt = text.indexOf('"usage"', start);
      if (usageAt >= start && usageAt < newline) this.event(text.slice(start, newline));
      start = newline + 1;
    }
    this.line = text.slice(start);
    // A line longer than any usage event is content: drop it rather than hold it.
    if (this.line.length > MAX_EVENT_LINE) this.line = '';
  }

  end(): Usage {
    if (this.streamed) this.event(this.line);
    else if (this.jsonBytes <= MAX_JSON_BYTES) this.take(parseJson(Buffer.concat(this.json).toString('utf8')));
    this.json = [];
    return this.usage;
  }

  private event(line: string): void {
    if (!line.startsWith('data:') || !line.includes('"usage"')) return;
    this.take(parseJson(line.slice(5).trim()));
  }

  private take(body: unknown): void {
    for (const usage of usageObjects(body)) {
      const input = count(usage.prompt_tokens) ?? count(usage.input_tokens);
      const output = count(usage.completion_tokens) ?? count(usage.output_tokens);
      // Streamed counts are cumulative: the largest seen is the total.
      if (input !== undefined) this.usage.input = Math.max(this.usage.input, input);
      if (output !== undefined) this.usage.output = Math.max(this.usage.output, output);
    }
  }
}

function usageObjects(body: unknown): Array<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as Record<string, unknown>;
  return [b.usage, (b.message as Record<string, unknown> | undefined)?.usage, (b.response as Record<string, unknown> | undefined)?.usage]
    .filter((u): u is Record<string, unknown> => typeof u === 'object' && u !== null);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
