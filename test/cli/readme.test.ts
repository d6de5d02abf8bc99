// The README's commands work from a fresh clone in a fresh shell, from any directory: the set-up
// puts the clone's own CLI on PATH, and every example calls `warden` (never `npx warden`, which
// outside the clone would fetch and run whatever the public registry calls `warden`).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, warden } from '../e2e/helpers.js';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
/** The indented code lines of a markdown file, without trailing comments. */
const codeLines = (text: string) => text.split('\n').filter((line) => line.startsWith('    ')).map((line) => line.trim().replace(/\s+#.*$/, ''));

test('the set-up puts the real CLI on PATH before any example uses it', () => {
  const lines = codeLines(readme);
  const setup = lines.findIndex((line) => /\bnpm (link|install -g \.)/.test(line));
  const firstUse = lines.findIndex((line) => /^warden /.test(line));
  assert.ok(setup >= 0, 'the README installs the CLI with npm link (or npm install -g .)');
  assert.ok(firstUse > setup, 'no `warden` command before the set-up');
});

test('no README or docs page calls `npx warden`', () => {
  const pages = [['README.md', readme], ...readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md'))
    .map((f) => [`docs/${f}`, readFileSync(path.join(REPO_ROOT, 'docs', f), 'utf8')])];
  for (const [name, text] of pages) {
    for (const line of codeLines(text!)) assert.doesNotMatch(line, /npx warden/, `${name}: ${line}`);
  }
});

test('every README example names a command warden has', () => {
  const commands = new Set<string>();
  for (const line of codeLines(readme)) {
    for (const part of line.split(/\s*;\s*/)) {
      const words = part.split(/\s+/);
      if (words[0] !== 'warden' || words[1] === undefined || words[1].startsWith('-')) continue;
      const sub = words[2] !== undefined && /^[a-z][a-z-]*$/.test(words[2]) && ['sandbox', 'policy', 'gateway', 'preset', 'audit'].includes(words[1]) ? [words[1], words[2]] : [words[1]];
      commands.add(sub.join(' '));
    }
  }
  assert.ok(commands.size >= 10, [...commands].join(', '));
  for (const command of commands) {
    const help = warden([...command.split(' '), '--help']);
    assert.equal(help.status, 0, `warden ${command} --help: ${help.stderr}`);
  }
});
