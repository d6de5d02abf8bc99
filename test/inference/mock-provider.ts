// A local model server speaking OpenAI's and Anthropic's HTTP APIs as their SDKs expect them
// (JSON and server-sent-event streams, usage fields, error bodies, key checks): the stand-in for
// a paid model API that cannot be reached from tests. It keeps what it received, for assertions.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** What a scripted answer says: text, or function calls for the agent to run (OpenAI's tool_calls). */
export type ScriptedReply = { text: string } | { toolCalls: Array<{ name: string; arguments: Record<string, unknown> }> };

export interface MockProviderOptions {
  /**
   * Answers chat completions as a model would, from the request (the conversation so far):
   * a tool call for the agent to run, or the final text. Default: five words.
   */
  script?: (body: Record<string, unknown>) => ScriptedReply;
  /** The key callers must send (Bearer or x-api-key); none: any caller is served. */
  key?: string;
  /** Words in each answer (each streamed as its own event). Default 5. */
  words?: number;
  /** Milliseconds between streamed events. Default 0. */
  eventDelayMs?: number;
  /** The ids GET /v1/models lists. Default ['mock-model']. */
  models?: string[];
}

export interface MockProvider {
  url: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try {
        body = text ? JSON.parse(text) as Record<string, unknown> : undefined;
      } catch {
        body = undefined;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      void answer(req, res, path, body, options);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function answer(req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Record<string, unknown> | undefined, options: MockProviderOptions): Promise<void> {
  const anthropic = path === '/v1/messages';
  const json = (status: number, value: unknown) => {
    const data = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-request-id': 'req_mock' });
    res.end(data);
  };
  const error = (status: number, message: string) => json(status, anthropic
    ? { type: 'error', error: { type: status === 401 ? 'authentication_error' : 'api_error', message } }
    : { error: { message, type: status === 401 ? 'invalid_request_error' : 'server_error', code: null } });
  const given = req.headers['x-api-key'] ?? /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1];
  if (options.key !== undefined && given !== options.key) return error(401, 'Incorrect API key provided');
  const model = typeof body?.model === 'string' ? body.model : 'mock-model';
  if (model === 'fail-500') return error(500, 'the model is overloaded');
  const words = Array.from({ length: options.words ?? 5 }, (_, i) => `word${i}`);
  const inputTokens = JSON.stringify(body?.messages ?? body?.input ?? body?.prompt ?? '').length;
  const outputTokens = words.length;
  const stream = body?.stream === true;
  if (req.method === 'GET' && path === '/v1/models') return json(200, { object: 'list', data: (options.models ?? ['mock-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'mock' })) });
  if (req.method !== 'POST') return error(404, `no route ${req.method} ${path}`);
  if (path === '/v1/embeddings') {
    return json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model, usage: { prompt_tokens: inputTokens, total_tokens: inputTokens } });
  }
  const scripted = path === '/v1/chat/completions' && options.script && body ? options.script(body) : undefined;
  if (scripted && 'toolCalls' in scripted) {
    const calls = scripted.toolCalls.map((call, index) => ({ index, id: `call_${Date.now().toString(36)}_${index}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } }));
    if (!stream) {
      return json(200, {
        id: 'chatcmpl-mock', object: 'chat.completion', created: 0, model,
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: calls.map(({ index: _index, ...call }) => call) }, finish_reason: 'tool_calls', logprobs: null }],
        usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: null }, null));
    // As real servers do: the call's id and name first, its arguments in pieces after.
    for (const call of calls) {
      res.write(chunk({ tool_calls: [{ index: call.index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, null));
      const args = call.function.arguments;
      for (let at = 0; at < args.length; at += 16) res.write(chunk({ tool_calls: [{ index: call.index, function: { arguments: args.slice(at, at + 16) } }] }, null));
    }
    res.write(chunk({}, 'tool_calls'));
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens } })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  if (scripted && 'text' in scripted) words.splice(0, words.length, ...scripted.text.split(' '));
  if (path === '/v1/chat/completions' && !stream) {
    return json(200, {
      id: 'chatcmpl-mock', object: 'chat.completion', created: 0, model,
      choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    });
  }
  if (path === '/v1/chat/completions') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: object, finish: string | null, extra: object = {}) => `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const [i, word] of words.entries()) {
      if (options.eventDelayMs) await sleep(options.eventDelayMs);
      res.write(chunk({ content: (i > 0 ? ' ' : '') + word }, null));
    }
    res.write(chunk({}, 'stop'));
    const includeUsage = (body?.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (includeUsage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 0, model, choices: [], usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens } })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  if (path === '/v1/completions') {
    return json(200, { id: 'cmpl-mock', object: 'text_completion', created: 0, model, choices: [{ index: 0, text: words.join(' '), finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens } });
  }
  if (path === '/v1/responses') {
    return json(200, {
      id: 'resp_mock', object: 'response', created_at: 0, status: 'completed', model,
      output: [{ type: 'message', id: 'msg_mock', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: words.join(' '), annotations: [] }] }],
      usage: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    });
  }
  if (anthropic && !stream) {
    return json(200, {
      id: 'msg_mock', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: words.join(' ') }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    });
  }
  if (anthropic) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
    res.write(event('message_start', { message: { id: 'msg_mock', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } }));
    res.write(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    for (const [i, word] of words.entries()) {
      if (options.eventDelayMs) await sleep(options.eventDelayMs);
      res.write(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: (i > 0 ? ' ' : '') + word } }));
    }
    res.write(event('content_block_stop', { index: 0 }));
    res.write(event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } }));
    res.end(event('message_stop', {}));
    return;
  }
  return error(404, `no route ${req.method} ${path}`);
}
