import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { forgetSecrets, redactArgv, redactText, redactValue, registerSecret } from '../../src/audit/index.js';

// Canaries of each shape, built at run time so this file itself holds no token-shaped string.
const canary = {
  telegram: `bot${'7'.repeat(10)}:AA${'Hq'.repeat(17)}`,
  openai: `sk-proj-${'Cn'.repeat(12)}`,
  anthropic: `sk-ant-api03-${'Xy'.repeat(12)}`,
  github: `ghp_${'Gh'.repeat(18)}`,
  githubPat: `github_pat_${'Pa'.repeat(20)}`,
  slack: `xoxb-${'1'.repeat(12)}-${'Sl'.repeat(8)}`,
  aws: `AKIA${'Q'.repeat(16)}`,
  jwt: `eyJ${'h'.repeat(12)}.eyJ${'p'.repeat(12)}.${'s'.repeat(12)}`,
};

afterEach(() => forgetSecrets());

describe('redaction', () => {
  test('every known token shape is replaced wherever it appears', () => {
    for (const [name, secret] of Object.entries(canary)) {
      for (const text of [secret, `/api/${secret}/send`, `prefix ${secret} suffix`, `"${secret}"`]) {
        const out = redactText(text);
        assert.ok(!out.includes(secret), `${name} survived in ${out}`);
        assert.match(out, /<redacted>/, name);
      }
    }
  });

  test('a Telegram bot path keeps its shape: /bot<token>/method', () => {
    assert.equal(redactText(`/${canary.telegram}/sendMessage`), '/<redacted>/sendMessage');
  });

  test('query values, flags and variables whose names say secret; bearer and basic credentials; URL passwords', () => {
    assert.equal(redactText('/v1/items?page=2&api_key=hunter2hunter2&access_token=abc123'), '/v1/items?page=2&api_key=<redacted>&access_token=<redacted>');
    assert.equal(redactText('--password=hunter2 --user=alice'), '--password=<redacted> --user=alice');
    assert.equal(redactText('GITHUB_TOKEN=abcdef ls'), 'GITHUB_TOKEN=<redacted> ls');
    assert.equal(redactText('Authorization: Bearer abc.def.ghi-123'), 'Authorization: Bearer <redacted>');
    assert.equal(redactText('Basic dXNlcjpwYXNzd29yZA=='), 'Basic <redacted>');
    assert.equal(redactText('https://alice:s3cr3t@example.com/x'), 'https://alice:<redacted>@example.com/x');
  });

  test('ordinary text is left alone', () => {
    for (const text of ['/simple/requests/', 'GET /v1/models?page=2', 'git-upload-pack', 'sha256 0123abcd', 'skip-this', 'the key to success', 'monkey=1']) {
      assert.equal(redactText(text), text);
    }
  });

  test('command lines: the argument after a secret flag goes too', () => {
    assert.deepEqual(redactArgv(['curl', '-H', `Authorization: Bearer ${canary.github}`, '--token', 'plainvalue', 'https://x/']),
      ['curl', '-H', 'Authorization: Bearer <redacted>', '--token', '<redacted>', 'https://x/']);
  });

  test('registered secrets are replaced whatever they look like, longest first', () => {
    registerSecret('correct-horse-battery');
    registerSecret('correct-horse-battery-staple');
    assert.equal(redactText('x correct-horse-battery-staple y correct-horse-battery'), 'x <redacted> y <redacted>');
    registerSecret('short');
    assert.equal(redactText('short'), 'short', 'too short to register: it would rewrite ordinary text');
  });

  test('JSON values: strings walked, credential keys replaced whole, argv as a command line, other types kept', () => {
    const value = {
      path: `/x/${canary.openai}`,
      headers: { Authorization: 'anything at all', 'Content-Type': 'text/plain', cookie: 'a=b' },
      argv: ['tool', '--secret', 'zzz'],
      nested: [{ password: 'p', count: 3, ok: true, none: null }],
      max_tokens: 100,
      author: 'alice',
    };
    assert.deepEqual(redactValue(value), {
      path: '/x/<redacted>',
      headers: { Authorization: '<redacted>', 'Content-Type': 'text/plain', cookie: '<redacted>' },
      argv: ['tool', '--secret', '<redacted>'],
      nested: [{ password: '<redacted>', count: 3, ok: true, none: null }],
      max_tokens: 100,
      author: 'alice',
    });
    const date = new Date(0);
    assert.equal((redactValue({ when: date }) as { when: unknown }).when, date, 'non-plain objects are left for canonical JSON to refuse');
  });
});
