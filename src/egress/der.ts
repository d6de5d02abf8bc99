// A small DER (ASN.1 Distinguished Encoding Rules) encoder, plus a reader just large enough to
// pull fields out of certificates we issued. Enough for X.509 v3 certificates; nothing more.

export type Der = Buffer;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Der {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));
export const setOf = (...items: Der[]): Der => tlv(0x31, Buffer.concat(sortDer(items)));
export const nullValue = (): Der => Buffer.from([0x05, 0x00]);
export const boolean = (value: boolean): Der => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const octetString = (content: Buffer): Der => tlv(0x04, content);
export const utf8String = (text: string): Der => tlv(0x0c, Buffer.from(text, 'utf8'));
export const ia5String = (text: string): Der => tlv(0x16, Buffer.from(text, 'ascii'));

/** SET OF elements are ordered by their encodings in DER. */
function sortDer(items: Der[]): Der[] {
  return [...items].sort(Buffer.compare);
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, sign bit respected). */
export function integerFromBytes(bytes: Buffer): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

export function integer(value: number): Der {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error('integer: non-negative safe integers only');
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return integerFromBytes(Buffer.from(bytes));
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new Error(`bad OID ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const pushArc = (arc: bigint): void => {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let a = arc >> 7n; a > 0n; a >>= 7n) chunk.unshift(Number(a & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  pushArc(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) pushArc(arc);
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING with a whole number of bytes (unused-bits count 0). */
export function bitString(content: Buffer): Der {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
}

/**
 * BIT STRING of named bits (bit 0 = most significant bit of the first byte), trailing zero
 * bits removed as DER requires.
 */
export function namedBits(bits: number[]): Der {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** EXPLICIT context tag [n] (constructed). */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);
/** IMPLICIT context tag [n] over a primitive value. */
export const implicitPrimitive = (n: number, content: Buffer): Der => tlv(0x80 | n, content);

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5). */
export function time(date: Date): Der {
  const y = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${two(y % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'ascii'));
}

// ---- reading ---------------------------------------------------------------------------

export interface DerElement {
  tag: number;
  /** The whole element, header included. */
  raw: Buffer;
  content: Buffer;
}

export function readElement(buf: Buffer, offset = 0): DerElement & { end: number } {
  const tag = buf[offset];
  if (tag === undefined) throw new Error('DER: unexpected end of input');
  let pos = offset + 1;
  const first = buf[pos++];
  if (first === undefined) throw new Error('DER: unexpected end of input');
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('DER: unexpected end of input');
      length = length * 256 + b;
    }
  }
  const end = pos + length;
  if (end > buf.length) throw new Error('DER: element runs past the end');
  return { tag, raw: buf.subarray(offset, end), content: buf.subarray(pos, end), end };
}

/** The elements directly inside a constructed element. */
export function children(el: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let pos = 0; pos < el.content.length; ) {
    const child = readElement(el.content, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}
