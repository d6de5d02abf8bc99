// The terminal `warden term` draws on, between ink and the real stdout. ink redraws a frame by
// erasing the previous one line by line (or, for a frame as tall as the screen, by clearing the
// whole terminal) and writing the new one: for a moment the screen is blank, which shows as flicker
// when frames come fast (100 events/s) or over a slow link. Here every frame is drawn over the last
// one in place instead: cursor home, each line written over the old one and the rest of it erased,
// everything below erased, all inside one synchronized update (terminals that know DEC mode 2026
// show the frame at once; others ignore it). No state on the screen is ever blank.
import { EventEmitter } from 'node:events';

/** What ink writes to move over its previous frame: erase line, cursor up/left, clear screen, home. */
const INK_MOVES = /\x1b\[(?:2K|\d*A|G|2J|3J|H)/g;
const SGR = /\x1b\[[0-9;]*m/g;
const BEGIN_SYNC = '\x1b[?2026h';
const END_SYNC = '\x1b[?2026l';

/** A frame as ink wrote it, as the lines to draw (ink's moves and the trailing newline dropped). */
export function frameLines(written: string): string[] {
  const lines = written.replace(INK_MOVES, '').split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** The bytes that draw `lines` over whatever is on a screen `columns` wide and `rows` tall, without blanking it. */
export function drawOver(lines: readonly string[], columns: number, rows: number): string {
  const body = lines.map((line, i) => {
    // A line that fills the width leaves the cursor in the last column, where erasing to the end of
    // the line would erase its last character: only shorter lines are erased after.
    const visible = line.replace(SGR, '').length;
    return `\x1b[${i + 1};1H${line}${visible < columns ? '\x1b[K' : ''}`;
  }).join('');
  // Below a frame shorter than the screen, what an earlier, taller one left is erased. (Never after
  // a frame as tall as the screen: the cursor cannot go below its last row, which would be erased.)
  const rest = lines.length < rows ? `\x1b[${lines.length + 1};1H\x1b[J` : '';
  return `${BEGIN_SYNC}${body}${rest}${END_SYNC}`;
}

/**
 * A stdout for ink that draws each frame over the previous one (see above). Everything else ink
 * needs (size, resize events, isTTY) is the real terminal's.
 */
export class OverdrawScreen extends EventEmitter {
  readonly isTTY = true;
  private last = '';

  constructor(private readonly out: NodeJS.WriteStream) {
    super();
    out.on('resize', () => {
      // After a resize the old frame is reflowed by the terminal: the next one is drawn whole.
      this.last = '';
      this.emit('resize');
    });
  }

  get columns(): number {
    return this.out.columns || 80;
  }

  get rows(): number {
    return this.out.rows || 24;
  }

  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    const lines = frameLines(text);
    const frame = lines.join('\n');
    if (frame === this.last || (frame === '' && text !== '')) {
      callback?.();
      return true;
    }
    this.last = frame;
    return this.out.write(drawOver(lines, this.columns, this.rows), callback);
  }
}
