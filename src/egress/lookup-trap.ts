// The sandbox's name server: a UDP socket on its loopback that answers every query REFUSED and
// says which name was asked. Nothing in a sandbox reaches out but the proxy, and a program that
// uses the proxy leaves names to it: a program that looks a name up itself is about to connect
// directly, which cannot work (Node 20's fetch() ignores HTTP_PROXY). Seeing the lookup is how
// warden can tell the user why, at no cost to traffic that goes through the proxy.
import type dgram from 'node:dgram';

/** The sandbox's /etc/resolv.conf: the trap, asked once. */
export const RESOLV_CONF = 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n';
export const LOOKUP_TRAP_PORT = 53;

const HEADER_BYTES = 12;
const RCODE_REFUSED = 5;
/** Longest name reported (a DNS name has at most 253 characters). */
const MAX_NAME = 253;

/**
 * What warden says when a program in the sandbox looked `name` up itself: it is not using the
 * proxy, the sandbox's only way out. Node 20's fetch() is the common case. `name` is safe to print
 * (parseQuestion lets only letters, digits, '-', '_' and '.' through).
 */
export function proxyIgnoredNotice(name: string): string {
  return `warden: a program in the sandbox looked up ${name} itself instead of connecting through the proxy (HTTP_PROXY/HTTPS_PROXY), ` +
    'the only way out of the sandbox, so its connection fails. Node 20\'s fetch() ignores the proxy variables: use Node 24 or later ' +
    "(NODE_USE_ENV_PROXY=1 is set for it), or on Node 20 install undici's EnvHttpProxyAgent as the global dispatcher " +
    "(import { setGlobalDispatcher, EnvHttpProxyAgent } from 'undici'; setGlobalDispatcher(new EnvHttpProxyAgent())).";
}

/** Answers every query on `socket` REFUSED, and passes the name asked (when it parses) to `asked`. */
export function serveLookupTrap(socket: dgram.Socket, asked: (name: string) => void): void {
  socket.on('message', (query, peer) => {
    if (query.length < HEADER_BYTES) return;
    const question = parseQuestion(query);
    // Same id, a response (QR), the query's opcode and RD bit, REFUSED; the question echoed.
    const answer = Buffer.alloc(HEADER_BYTES + (question?.bytes ?? 0));
    query.copy(answer, 0, 0, 2);
    answer[2] = 0x80 | (query[2]! & 0x79);
    answer[3] = RCODE_REFUSED;
    if (question) {
      answer.writeUInt16BE(1, 4);
      query.copy(answer, HEADER_BYTES, HEADER_BYTES, HEADER_BYTES + question.bytes);
    }
    socket.send(answer, peer.port, peer.address, () => undefined);
    if (question && question.name !== '') asked(question.name);
  });
  socket.on('error', () => undefined);
}

/**
 * The first question of a query: its name (only letters, digits, '-', '_' and '.': it comes from
 * the sandbox and may be printed) and its length in bytes including type and class.
 */
function parseQuestion(query: Buffer): { name: string; bytes: number } | undefined {
  if (query.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  for (;;) {
    const length = query[offset];
    if (length === undefined || length > 63) return undefined; // compression pointers have no place in a question
    offset++;
    if (length === 0) break;
    if (offset + length > query.length) return undefined;
    labels.push(query.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > query.length) return undefined;
  const name = labels.join('.');
  if (name.length > MAX_NAME || !/^[A-Za-z0-9._-]*$/.test(name)) return undefined;
  return { name, bytes: offset + 4 - HEADER_BYTES };
}
