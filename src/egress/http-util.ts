// Explicit handling of the parts of HTTP/1.1 a forward proxy must get right itself: request
// targets (authority-form for CONNECT, absolute-form for plain HTTP), Host comparison, and
// hop-by-hop headers.

import { normaliseHost, parseIp } from '../policy/index.js';

export interface Authority {
  /** Normalised host (lower case, no trailing dot, IPv6 without brackets). */
  host: string;
  port: number;
  /** Whether the port was written out. */
  explicitPort: boolean;
}

export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * Parse `host:port`, `[v6]:port`, or (with a default port) a bare host. Userinfo is refused:
 * `user@host` has no business in a proxy target and is a classic confusion vector.
 */
export function parseAuthority(text: string, defaultPort?: number): Authority | null {
  if (text.length === 0 || text.length > 300 || text.includes('@') || /[\s/\\?#]/.test(text)) return null;
  let hostPart: string;
  let portPart: string | null = null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    hostPart = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      if (text.indexOf(':') !== colon) return null; // bare IPv6 without brackets
      hostPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    } else {
      hostPart = text;
    }
  }
  const host = normaliseHost(hostPart);
  if (!host) return null;
  if (portPart === null) {
    if (defaultPort === undefined) return null;
    return { host, port: defaultPort, explicitPort: false };
  }
  const port = parsePort(portPart);
  return port === null ? null : { host, port, explicitPort: true };
}

export interface AbsoluteTarget {
  scheme: string;
  authority: Authority;
  /** Origin-form remainder: path and query, starting with '/'. */
  pathAndQuery: string;
}

const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/;

/** Parse an absolute-form request target (`http://host:port/path?q`). */
export function parseAbsoluteTarget(url: string): AbsoluteTarget | null {
  const m = ABSOLUTE.exec(url);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) return null;
  const authority = parseAuthority(m[2]!, defaultPort);
  if (!authority) return null;
  let rest = m[3]!;
  if (rest === '') rest = '/';
  else if (rest.startsWith('?')) rest = `/${rest}`;
  return { scheme, authority, pathAndQuery: rest };
}

/**
 * Whether a Host header names the same destination. A Host without a port is accepted (many
 * clients omit default ports); a different host or a different explicit port is not.
 */
export function hostHeaderMatches(value: string, host: string, port: number): boolean {
  const a = parseAuthority(value.trim(), port);
  return a !== null && a.host === host && a.port === port;
}

/** `host[:port]` for a Host header, port omitted when it is the scheme's default. */
export function formatAuthority(host: string, port: number, defaultPort: number): string {
  const ip = parseIp(host);
  const h = ip && ip.family === 6 ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Values of a header in a raw header list (case-insensitive name). */
export function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  const n = name.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === n) out.push(raw[i + 1]!);
  return out;
}

/**
 * A raw header list without hop-by-hop headers, without headers the Connection header names,
 * and without `drop`. Order and spelling of the rest are kept.
 */
export function endToEndHeaders(raw: readonly string[], drop: readonly string[] = []): string[] {
  const remove = new Set([...HOP_BY_HOP, ...drop.map((d) => d.toLowerCase())]);
  for (const v of headerValues(raw, 'connection')) {
    for (const token of v.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) remove.add(t);
    }
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!remove.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'Connection Established',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A complete response for writing straight to a socket (CONNECT answers, upgrade refusals). */
export function rawJsonResponse(status: number, body: unknown, extra: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(json)),
    Connection: 'close',
    ...extra,
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n${lines}\r\n${json}`;
}
