// The layout rules npm test runs (scripts/eslint/architecture.mjs), shown to catch what they forbid.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function lint(file: string, code: string): Promise<string[]> {
  const { default: architecture } = await import(path.join(REPO, 'scripts', 'eslint', 'architecture.mjs')) as { default: import('eslint').ESLint.Plugin };
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(code, [{
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser as import('eslint').Linter.Parser },
    plugins: { architecture },
    rules: { 'architecture/boundaries': 'error', 'architecture/no-cycles': 'error' },
  }], path.join(REPO, file));
  return messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('a component reaching into another\'s files is an error; its index is fine', async () => {
  assert.deepEqual(await lint('src/cli/x.ts', "import { parsePolicy } from '../policy/load.js';\n"),
    ["architecture/boundaries: src/cli reaches into src/policy (../policy/load.js): import '../policy/index.js' instead"]);
  assert.deepEqual(await lint('src/cli/x.ts', "import { defaultPolicy } from '../policy/index.js';\n"), []);
  assert.deepEqual(await lint('src/cli/x.ts', "export { thing } from '../egress/proxy.js';\n").then((m) => m.length), 1);
  assert.deepEqual(await lint('src/cli/x.ts', "const m = await import('../egress/proxy.js');\n").then((m) => m.length), 1, 'dynamic imports too');
  assert.deepEqual(await lint('test/egress/x.test.ts', "import { Routes } from '../../src/egress/routes.js';\n"), [], 'tests may reach into what they test');
});

test('an import that closes a cycle between components is an error', async () => {
  // policy imports nothing of checkpoint; checkpoint imports policy: an import back would close a cycle.
  const messages = await lint('src/policy/x.ts', "import { createCheckpoint } from '../checkpoint/index.js';\n");
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /import cycle between components: policy -> checkpoint -> policy/);
});
