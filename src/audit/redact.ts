// The one set of redaction patterns. Everything that reaches the audit log goes through
// redactValue when it is appended (append.ts), and everything warden prints about a decision is
// built from an already redacted record, so a secret an agent puts in a URL, a header or a command
// line is never stored or shown: known token shapes, values of parameters and flags whose names say
// "secret", and the exact value of every secret warden was told about (provider keys).

export const REDACTED = '<redacted>';

/** Secrets shorter than this are not registered: replacing them would rewrite ordinary text. */
const MIN_REGISTERED_LENGTH = 8;
const registered = new Set<string>();
let registeredPattern: RegExp | undefined;

/**
 * Remembers a secret's exact value (a provider key, a credential placeholder's real value), so
 * that it is replaced wherever it appears in a record, whatever its shape.
 */
export function registerSecret(value: string): void {
  if (value.length < MIN_REGISTERED_LENGTH || registered.has(value)) return;
  registered.add(value);
  // Longest first, so a secret that contains another is replaced whole.
  const sorted = [...registered].sort((a, b) => b.length - a.length);
  registeredPattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

/** Forgets every registered secret (tests; a gateway that removed a provider). */
export function forgetSecrets(): void {
  registered.clear();
  registeredPattern = undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Words that make a name (query parameter, flag, variable, header, JSON key) name a secret. */
const SECRET_WORDS = new Set([
  'token', 'secret', 'password', 'passwd', 'pwd', 'passphrase', 'auth', 'authorization', 'credential', 'credentials', 'session', 'signature',
  'sig', 'cookie', 'apikey', 'accesskey', 'privatekey', 'bearer', 'jwt',
]);
/** `key` names a secret after these words: api_key, access-key, privateKey, client_key. */
const KEY_AFTER = new Set(['api', 'access', 'private', 'secret', 'client', 'master', 'signing']);
/** A last word that makes the name describe a secret rather than hold one: token_count, auth_type. */
const DESCRIBES = new Set(['count', 'limit', 'type', 'method', 'mode', 'alg', 'algorithm', 'url', 'uri', 'endpoint', 'header', 'name', 'expires', 'expiry', 'ttl', 'id']);

/** Whether a name says its value is a secret: split on separators and camelCase, word by word. */
export function isSecretName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
  if (words.length === 0 || (words.length > 1 && DESCRIBES.has(words[words.length - 1]!))) return false;
  return words.some((word, i) => SECRET_WORDS.has(word) || (word === 'key' && i > 0 && KEY_AFTER.has(words[i - 1]!)));
}

// Token shapes: each is distinctive enough that a match is a secret, whatever surrounds it.
const TOKEN_SHAPES = [
  /bot\d{5,}:[A-Za-z0-9_-]{30,}/, // Telegram bot tokens, as in /bot<token>/sendMessage
  /sk-[A-Za-z0-9_-]{16,}/, // OpenAI, Anthropic (sk-ant-...) and compatible keys
  /gh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /github_pat_[A-Za-z0-9_]{30,}/, // GitHub fine-grained tokens
  /xox[abposr]-[A-Za-z0-9-]{10,}/, // Slack tokens
  /(?:AKIA|ASIA)[A-Z0-9]{16}/, // AWS access key ids
  /AIza[0-9A-Za-z_-]{35}/, // Google API keys
  /glpat-[A-Za-z0-9_-]{20,}/, // GitLab tokens
  /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, // JSON web tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/, // PEM private keys
];

const PATTERNS: Array<{ pattern: RegExp; replace: string | ((match: string, ...groups: string[]) => string) }> = [
  { pattern: new RegExp(TOKEN_SHAPES.map((shape) => shape.source).join('|'), 'g'), replace: REDACTED },
  // Authorization schemes: the scheme stays, the credential goes.
  { pattern: /\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=:-]{6,}/gi, replace: (_m, scheme: string) => `${scheme} ${REDACTED}` },
  // user:password@ in URLs.
  { pattern: /(\/\/[^/@\s:]*):[^/@\s]+@/g, replace: (_m, user: string) => `${user}:${REDACTED}@` },
  // Query parameters, form fields, flags and variables whose names say secret: name=value.
  {
    pattern: /((?:^|[?&;\s"'])-{0,2})([A-Za-z0-9_.-]+)=([^&#\s"']+)/g,
    replace: (match, lead: string, name: string) => (isSecretName(name) ? `${lead}${name}=${REDACTED}` : match),
  },
];

/** The text with every secret it contains replaced by <redacted>. */
export function redactText(text: string): string {
  let out = text;
  if (registeredPattern !== undefined) out = out.replace(registeredPattern, REDACTED);
  for (const { pattern, replace } of PATTERNS) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, replace as (substring: string, ...args: string[]) => string);
  }
  return out;
}

/**
 * A command line with secrets replaced: token shapes anywhere, `--token=VALUE` and the argument
 * after a flag whose name says secret (`--password VALUE`, `-H "Authorization: ..."`).
 */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let hideNext = false;
  for (const arg of argv) {
    if (hideNext) {
      out.push(REDACTED);
      hideNext = false;
      continue;
    }
    out.push(redactText(arg));
    hideNext = /^-{1,2}[A-Za-z0-9_-]+$/.test(arg) && isSecretName(arg);
  }
  return out;
}

/** Header names whose value is a credential, whatever it looks like. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token']);

/**
 * A JSON value with secrets replaced: every string through redactText, command lines (`argv`)
 * through redactArgv, and the whole value of keys that name a credential (authorization,
 * cookie, password, token...).
 */
export function redactValue(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    return secretKey(key) ? REDACTED : redactText(value);
  }
  if (Array.isArray(value)) {
    if (key === 'argv' || key === 'command' || key === 'cmdline') {
      if (value.every((item) => typeof item === 'string')) return redactArgv(value as string[]);
    }
    return value.map((item) => redactValue(item));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) out[name] = redactValue(member, name);
    return out;
  }
  return value;
}

/** Only plain objects are walked: anything else is left for canonical JSON to refuse. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A key whose string value is a credential as a whole (not text that may contain one). */
function secretKey(key: string): boolean {
  return key !== '' && (SECRET_HEADERS.has(key.toLowerCase()) || isSecretName(key));
}
