// Lint and format rules, run by `npm test` (and `npm run lint -- --fix` formats). typescript-eslint's
// recommended rules, a style that matches the code as written (@stylistic), and warden's layout
// rules (scripts/eslint/architecture.mjs: components meet at index.ts, no cycles between them).
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';
import architecture from './scripts/eslint/architecture.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/governance/scanner/weights.generated.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { '@stylistic': stylistic, architecture },
    rules: {
      'architecture/boundaries': 'error',
      'architecture/no-cycles': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // `let x!: T` assigned once, after closures that read it were created, stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, flatTernaryExpressions: true, offsetTernaryExpressions: true, ignoredNodes: ['TemplateLiteral *', 'ConditionalExpression'] }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 2, maxEOF: 0 }],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/max-len': ['error', { code: 240, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: false }],
    },
  },
  {
    // Line 2 of the launcher is a shell command and a JavaScript expression at once (see the file).
    files: ['bin/warden.js'],
    rules: { '@stylistic/semi': 'off', '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    // Scripts and benchmarks talk to the terminal.
    files: ['scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
