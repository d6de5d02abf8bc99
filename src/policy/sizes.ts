// Units in policy files: sizes ("512M", "4G") and durations ("45s", "10m", "1h30m").

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$/i;
const UNIT = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 } as const;

/** "512M", "4G", "1.5GiB", "1048576" (bytes; powers of 1024) → bytes; undefined when malformed or zero. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 'B').toUpperCase()[0] as keyof typeof UNIT;
  const bytes = Math.floor(Number(match[1]) * UNIT[unit]);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses "45s", "10m", "1h", "1h30m" into milliseconds; undefined when malformed or zero. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, h = '0', m = '0', s = '0'] = match;
  const ms = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}
