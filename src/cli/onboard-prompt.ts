// Questions at a terminal, for `warden onboard`'s wizard. Lines are read in raw mode and edited
// here (typing, backspace, Ctrl-U), so that a hidden answer (a key) is never echoed: the terminal
// does not echo in raw mode and this reader prints nothing for it. Ctrl-C and end of input cancel.
// Questions go to stderr, so stdout carries only the result (and --json stays parseable).

import { writeSync } from 'node:fs';
import { AnswerError } from '../onboard/index.js';

export interface Prompter {
  /** Asks one question; resolves to the answer as typed ('' for just Enter). */
  question(text: string, opts?: { hidden?: boolean }): Promise<string>;
  /** Prints a line of the conversation. */
  say(text: string): void;
}

export class PromptCancelled extends Error {
  constructor(readonly interrupted: boolean) {
    super(interrupted ? 'interrupted' : 'end of input');
  }
}

/**
 * Asks until an answer passes `parse`: the default stands for an empty answer, and an
 * AnswerError's message is shown before asking again.
 */
export async function ask<T>(prompter: Prompter, text: string, parse: (answer: string) => T, opts: { default?: string; hidden?: boolean; hint?: string } = {}): Promise<T> {
  const shown = opts.default !== undefined && opts.default !== '' ? ` [${opts.default}]` : '';
  for (;;) {
    const answer = await prompter.question(`${text}${opts.hint !== undefined ? ` (${opts.hint})` : ''}${shown}: `, { hidden: opts.hidden === true });
    try {
      return parse(answer === '' && opts.default !== undefined ? opts.default : answer);
    } catch (error) {
      if (!(error instanceof AnswerError)) throw error;
      prompter.say(`  ${error.message}`);
    }
  }
}

export class TerminalPrompter implements Prompter {
  /** Typed ahead of the question being asked (a paste of several lines). */
  private pending = '';

  constructor(private readonly input: NodeJS.ReadStream = process.stdin, private readonly fd = 2) {}

  say(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  question(text: string, opts: { hidden?: boolean } = {}): Promise<string> {
    const hidden = opts.hidden === true;
    // Raw mode first, then the question: whoever waits for the question to type finds echo off.
    this.input.setRawMode(true);
    this.write(text);
    let line = '';
    return new Promise<string>((resolve, reject) => {
      const finish = (error?: PromptCancelled) => {
        this.input.off('data', onData);
        this.input.off('end', onEnd);
        this.input.setRawMode(false);
        this.input.pause();
        this.write('\n');
        if (error !== undefined) reject(error);
        else resolve(line);
      };
      const consume = (): boolean => {
        while (this.pending.length > 0) {
          const char = String.fromCodePoint(this.pending.codePointAt(0)!);
          this.pending = this.pending.slice(char.length);
          if (char === '\r' || char === '\n') {
            if (char === '\r' && this.pending.startsWith('\n')) this.pending = this.pending.slice(1);
            finish();
            return true;
          }
          if (char === '\x03') {
            finish(new PromptCancelled(true));
            return true;
          }
          if (char === '\x04') {
            if (line === '') {
              finish(new PromptCancelled(false));
              return true;
            }
            continue;
          }
          if (char === '\x7f' || char === '\b') {
            if (line.length > 0) {
              const last = [...line].at(-1)!;
              line = line.slice(0, -last.length);
              if (!hidden) this.write('\b \b');
            }
            continue;
          }
          if (char === '\x15') {
            if (!hidden) this.write('\b \b'.repeat([...line].length));
            line = '';
            continue;
          }
          if (char === '\x1b') {
            // An escape sequence (arrow keys and the like): dropped whole.
            const sequence = /^(\[[0-9;?]*[ -/]*[@-~]|O.|.)?/su.exec(this.pending)![0];
            this.pending = this.pending.slice(sequence.length);
            continue;
          }

          if (/[\x00-\x1f]/.test(char)) continue;
          line += char;
          if (!hidden) this.write(char);
        }
        return false;
      };
      const onData = (chunk: string) => {
        this.pending += chunk;
        consume();
      };
      const onEnd = () => finish(new PromptCancelled(false));
      if (consume()) return;
      this.input.setEncoding('utf8');
      this.input.on('data', onData);
      this.input.on('end', onEnd);
      this.input.resume();
    });
  }

  private write(text: string): void {
    try {
      writeSync(this.fd, text);
    } catch {
      // Nobody is left to read the question; the answer (or end of input) decides.
    }
  }
}
