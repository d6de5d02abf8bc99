import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { BinaryLedger, CompiledPolicy, POLICY_KEYS } from '../../src/policy/index.js';
import { parsePolicy, PolicyError, policyWarnings } from '../../src/policy/loader.js';
import { policyFileSchema } from '../../src/policy/schema.js';
import { yaml } from './helpers.js';

/** Every key path the schema accepts, from its JSON Schema: maps as `*`, list items as `[]`. */
function schemaKeys(): Set<string> {
  const keys = new Set<string>();
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const s = node as Record<string, unknown>;
    for (const branch of ['anyOf', 'oneOf', 'allOf']) for (const sub of (s[branch] as unknown[] | undefined) ?? []) walk(sub, path);
    for (const [key, sub] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) {
      const at = path === '' ? key : `${path}.${key}`;
      keys.add(at);
      walk(sub, at);
    }
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
    if (s.items !== undefined) walk(s.items, `${path}[]`);
  };
  walk(z.toJSONSchema(policyFileSchema, { io: 'input', unrepresentable: 'any' }), '');
  return keys;
}

const EXAMPLE = new URL('../../../../shared/POLICY-EXAMPLE.yaml', import.meta.url);

describe('every policy key has an enforcer or is refused', () => {
  test('the registry covers exactly the keys the schema accepts', () => {
    const keys = schemaKeys();
    assert.ok(keys.size > 100, `the schema walk found ${keys.size} keys`);
    const missing = [...keys].filter((key) => POLICY_KEYS[key] === undefined && POLICY_KEYS[key.replace(/\[\]$/, '')] === undefined);
    assert.deepEqual(missing, [], 'keys the schema accepts with no entry in src/policy/keys.ts');
    const stale = Object.keys(POLICY_KEYS).filter((key) => !keys.has(key) && !keys.has(`${key}[]`));
    assert.deepEqual(stale, [], 'entries for keys the schema no longer has');
  });

  test('an OpenShell key with no effect loads, with a warning that names it and says why, at its line', () => {
    const policy = parsePolicy(yaml(
      'version: 1',
      'network_policies:',
      '  api:',
      '    endpoints:',
      '      - host: api.example.com',
      '        port: 443',
      '        protocol: rest',
      '        access: read-only',
      '        credential_binding: { provider: example }',
      '    binaries: [{ path: /usr/bin/curl }]',
    ), 'p.yaml');
    const warnings = policyWarnings(policy);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.deepEqual({ line: warnings[0]!.line, column: warnings[0]!.column, path: warnings[0]!.path }, { line: 9, column: 9, path: 'network_policies.api.endpoints[0].credential_binding' });
    assert.match(warnings[0]!.message, /has no effect in warden: warden does not inject or sign credentials/);
  });

  test('a key nothing enforces, where ignoring it could allow more, is an error naming file, line and column', () => {
    assert.throws(() => parsePolicy(yaml(
      'version: 1',
      'network_policies:',
      '  stream:',
      '    endpoints:',
      '      - host: ws.example.com',
      '        port: 443',
      '        protocol: websocket',
      '        access: read-only',
      '        persisted_queries: deny',
      '    binaries: [{ path: /usr/bin/node }]',
    ), 'ws.yaml'), (error: unknown) => {
      assert.ok(error instanceof PolicyError);
      assert.equal(error.diagnostics.length, 1);
      assert.equal(error.format(), 'ws.yaml:9:9: network_policies.stream.endpoints[0].persisted_queries: is not enforced by warden: persisted_queries is not checked on websocket endpoints: nothing in warden would enforce it; remove it');
      return true;
    });
  });

  test('a fail_open middleware warns that it does nothing; a fail_closed one denies the traffic it covers', () => {
    const text = (onError: string) => yaml(
      'version: 1',
      'network_middlewares:',
      '  guard:',
      '    middleware: content-guard-example',
      `    on_error: ${onError}`,
      '    endpoints: { include: ["*.example.com"], exclude: [public.example.com] }',
      'network_policies:',
      '  web:',
      '    endpoints: [{ host: "*.example.com", port: 443 }]',
      '    binaries: [{ path: /usr/bin/curl }]',
    );
    const open = parsePolicy(text('fail_open'), 'open.yaml');
    assert.match(policyWarnings(open)[0]?.message ?? '', /fail_open lets the traffic through/);
    const closed = parsePolicy(text('fail_closed'), 'closed.yaml');
    assert.deepEqual(policyWarnings(closed), []);
    const curl = { pid: 1, exe: '/usr/bin/curl', exeSha256: 'a'.repeat(64), ancestors: [] };
    const decide = (policy: typeof open, host: string) => new CompiledPolicy(policy.network_policies, policy.network_middlewares).decideConnection(host, 443, curl, new BinaryLedger());
    assert.equal(decide(closed, 'api.example.com').code, 'middleware_unavailable');
    assert.match(decide(closed, 'api.example.com').reason, /network_middlewares\.guard \(content-guard-example\)/);
    assert.equal(decide(closed, 'public.example.com').verdict, 'allow', 'excluded hosts are not covered');
    assert.equal(decide(open, 'api.example.com').verdict, 'allow');
  });

  test('../shared/POLICY-EXAMPLE.yaml loads as it is, with every key enforced', { skip: existsSync(EXAMPLE) ? false : 'needs ../shared beside the clone' }, () => {
    const policy = parsePolicy(readFileSync(EXAMPLE, 'utf8'), 'POLICY-EXAMPLE.yaml');
    assert.deepEqual(policyWarnings(policy), []);
  });
});
