import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NetworkEndpoint } from '../../src/policy/types.js';
import { compileL7, decideL7, type L7EndpointRef } from '../../src/policy/l7.js';
import { normaliseTarget } from '../../src/policy/urlpath.js';

function ref(e: Partial<NetworkEndpoint>, policy = 'p'): L7EndpointRef {
  const endpoint: NetworkEndpoint = { host: 'api.test', ports: [443], protocol: 'rest', ...e };
  return { policy, endpoint, l7: compileL7(endpoint) };
}
function decide(refs: L7EndpointRef[], method: string, target: string) {
  const t = normaliseTarget(target);
  if (!t.ok) throw new Error(t.reason);
  return decideL7(refs, { method, path: t.path, query: t.query });
}

describe('access presets', () => {
  const table: Array<[NetworkEndpoint['access'], string, boolean]> = [
    ['read-only', 'GET', true],
    ['read-only', 'HEAD', true],
    ['read-only', 'OPTIONS', true],
    ['read-only', 'POST', false],
    ['read-only', 'DELETE', false],
    ['read-write', 'POST', true],
    ['read-write', 'PUT', true],
    ['read-write', 'PATCH', true],
    ['read-write', 'DELETE', false],
    ['read-write', 'PROPFIND', false],
    ['full', 'DELETE', true],
    ['full', 'PROPFIND', true],
  ];
  for (const [access, method, allowed] of table) {
    test(`${access} ${allowed ? 'allows' : 'refuses'} ${method}`, () => {
      assert.equal(decide([ref({ access })], method, '/x').verdict, allowed ? 'allow' : 'deny');
    });
  }
});

describe('rules and deny rules', () => {
  const git = ref({
    rules: [{ allow: { method: 'GET', path: '/**/info/refs*' } }, { allow: { method: 'post', path: '/**/git-upload-pack' } }],
    deny_rules: [{ method: 'POST', path: '/**/git-receive-pack' }],
  });
  test('allow rules match method (case-insensitive) and path glob', () => {
    assert.equal(decide([git], 'GET', '/org/repo.git/info/refs?service=git-upload-pack').verdict, 'allow');
    assert.equal(decide([git], 'POST', '/org/repo.git/git-upload-pack').verdict, 'allow');
    assert.equal(decide([git], 'GET', '/org/repo.git/git-upload-pack').code, 'l7_not_allowed');
  });
  test('deny wins over allow, including over a full access preset', () => {
    const r = ref({ access: 'full', deny_rules: [{ method: '*', path: '/admin/**' }] });
    assert.equal(decide([r], 'GET', '/admin/users').code, 'l7_deny_rule');
    assert.equal(decide([r], 'GET', '/public').verdict, 'allow');
    const d = decide([git], 'POST', '/org/repo.git/git-receive-pack');
    assert.equal(d.code, 'l7_deny_rule');
    assert.match(d.rule ?? '', /deny_rules\[0\]/);
  });
  test('deny rules see the path after normalisation (;params cut, slashes collapsed)', () => {
    const r = ref({ access: 'full', deny_rules: [{ method: '*', path: '/admin/**' }] });
    assert.equal(decide([r], 'GET', '/admin;x=1/users').code, 'l7_deny_rule');
    assert.equal(decide([r], 'GET', '//admin//users').code, 'l7_deny_rule');
    assert.equal(decide([r], 'GET', '/public/../admin/users').code, 'l7_deny_rule');
    assert.equal(decide([r], 'GET', '/%61dmin/users').code, 'l7_deny_rule');
  });
  test('method * matches any method', () => {
    const r = ref({ rules: [{ allow: { method: '*', path: '/ok' } }] });
    assert.equal(decide([r], 'DELETE', '/ok').verdict, 'allow');
    assert.equal(decide([r], 'DELETE', '/no').verdict, 'deny');
  });
  test('an inspected endpoint with no access and no rules refuses everything', () => {
    assert.equal(decide([ref({})], 'GET', '/').code, 'l7_no_rules');
  });
});

describe('query matchers', () => {
  const r = ref({
    rules: [{ allow: { method: 'GET', path: '/download', query: { slug: 'my-*', version: { any: ['1.*', '2.0'] }, channel: { glob: 'stable' } } } }],
    deny_rules: [{ method: 'GET', path: '/download', query: { force: 'true' } }],
  });
  test('every listed key must be present and every value must match', () => {
    assert.equal(decide([r], 'GET', '/download?slug=my-skill&version=1.2&channel=stable').verdict, 'allow');
    assert.equal(decide([r], 'GET', '/download?slug=my-skill&version=2.0&channel=stable&extra=1').verdict, 'allow');
    assert.equal(decide([r], 'GET', '/download?slug=other&version=1.2&channel=stable').verdict, 'deny');
    assert.equal(decide([r], 'GET', '/download?slug=my-skill&version=3.0&channel=stable').verdict, 'deny');
    assert.equal(decide([r], 'GET', '/download?slug=my-skill&channel=stable').verdict, 'deny');
    assert.equal(decide([r], 'GET', '/download?slug=my-a&slug=evil&version=1.0&channel=stable').verdict, 'deny');
  });
  test('deny side: one matching value is enough', () => {
    assert.equal(decide([r], 'GET', '/download?slug=my-a&version=1.0&channel=stable&force=false&force=true').code, 'l7_deny_rule');
  });
  test('values are compared decoded', () => {
    assert.equal(decide([r], 'GET', '/download?slug=my%2Dskill&version=1.0&channel=st%61ble').verdict, 'allow');
  });
});

describe('enforcement, selectors, protocols', () => {
  test('audit lets a would-be denial through, flagged', () => {
    const d = decide([ref({ access: 'read-only', enforcement: 'audit' })], 'POST', '/x');
    assert.equal(d.verdict, 'allow');
    assert.equal(d.code, 'audit');
    assert.equal(d.audit, true);
    const enforced = decide([ref({ access: 'read-only' })], 'POST', '/x');
    assert.equal(enforced.verdict, 'deny');
  });
  test('an enforced deny rule beats an audit endpoint', () => {
    const d = decide([ref({ access: 'full', enforcement: 'audit' }, 'a'), ref({ access: 'full', deny_rules: [{ method: 'DELETE' }] }, 'b')], 'DELETE', '/x');
    assert.equal(d.verdict, 'deny');
    assert.equal(d.policy, 'b');
  });
  test('one endpoint allowing is enough when several match', () => {
    const d = decide([ref({ access: 'read-only' }, 'ro'), ref({ rules: [{ allow: { method: 'POST', path: '/items' } }] }, 'writer')], 'POST', '/items');
    assert.equal(d.verdict, 'allow');
    assert.equal(d.policy, 'writer');
  });
  test('path selectors pick the most specific endpoint', () => {
    const broad = ref({ access: 'full' }, 'broad');
    const uploads = ref({ path: '/uploads/**', access: 'read-only' }, 'uploads');
    assert.equal(decide([broad, uploads], 'POST', '/uploads/a').verdict, 'deny');
    assert.equal(decide([broad, uploads], 'POST', '/other').verdict, 'allow');
  });
  test('protocols this proxy cannot inspect refuse every request', () => {
    const d = decide([ref({ protocol: 'graphql', access: 'full' })], 'POST', '/graphql');
    assert.equal(d.verdict, 'deny');
    assert.equal(d.code, 'l7_unsupported');
    const gqlOverWs = ref({ protocol: 'websocket', rules: [{ allow: { operation_type: 'query' } }], deny_rules: [{ operation_type: 'mutation' }] });
    assert.equal(decide([gqlOverWs], 'GET', '/graphql').code, 'l7_unsupported');
  });
  test('an allow rule without a method matches nothing; a deny rule without one matches all', () => {
    assert.equal(decide([ref({ rules: [{ allow: { path: '/x' } }] })], 'GET', '/x').verdict, 'deny');
    assert.equal(decide([ref({ access: 'full', deny_rules: [{ path: '/x' }] })], 'GET', '/x').code, 'l7_deny_rule');
  });
});

describe('websocket endpoints', () => {
  test('an upgrade needs client messages to be allowed too, since frames are not inspected', async () => {
    const { websocketMessagesAllowed } = await import('../../src/policy/l7.js');
    const upgradeOnly = ref({ protocol: 'websocket', rules: [{ allow: { method: 'GET', path: '/chat' } }] });
    assert.equal(websocketMessagesAllowed(upgradeOnly.l7, '/chat'), false);
    const withText = ref({ protocol: 'websocket', rules: [{ allow: { method: 'GET', path: '/chat' } }, { allow: { method: 'WEBSOCKET_TEXT', path: '/chat' } }] });
    assert.equal(websocketMessagesAllowed(withText.l7, '/chat'), true);
    assert.equal(websocketMessagesAllowed(withText.l7, '/other'), false);
    assert.equal(websocketMessagesAllowed(ref({ protocol: 'websocket', access: 'read-only' }).l7, '/x'), false);
    assert.equal(websocketMessagesAllowed(ref({ protocol: 'websocket', access: 'read-write' }).l7, '/x'), true);
    const denied = ref({ protocol: 'websocket', access: 'full', deny_rules: [{ method: 'WEBSOCKET_TEXT', path: '/x' }] });
    assert.equal(websocketMessagesAllowed(denied.l7, '/x'), false);
    // WEBSOCKET_TEXT rules never match an HTTP request
    assert.equal(decide([withText], 'POST', '/chat').verdict, 'deny');
  });
});

describe('HEAD is matched as GET (OpenShell method_matches)', () => {
  test('a GET allow rule allows HEAD; OPTIONS is not implied; a POST rule does not allow HEAD', () => {
    const r = ref({ rules: [{ allow: { method: 'GET', path: '/repos/**' } }, { allow: { method: 'POST', path: '/upload' } }] });
    assert.equal(decide([r], 'HEAD', '/repos/myorg/foo').verdict, 'allow');
    assert.equal(decide([r], 'OPTIONS', '/repos/myorg/foo').verdict, 'deny');
    assert.equal(decide([r], 'HEAD', '/upload').verdict, 'deny');
  });
  test('a GET deny rule denies HEAD too, so HEAD cannot probe what GET may not read', () => {
    const r = ref({ access: 'full', deny_rules: [{ method: 'GET', path: '/protected' }] });
    assert.equal(decide([r], 'HEAD', '/protected').code, 'l7_deny_rule');
    assert.equal(decide([r], 'HEAD', '/open').verdict, 'allow');
  });
});

describe('query globs', () => {
  test('in allow rules "*" stays between dots (OpenShell glob.match), "**" crosses them', () => {
    const star = ref({ rules: [{ allow: { method: 'GET', path: '/download', query: { tag: 'foo-*' } } }] });
    assert.equal(decide([star], 'GET', '/download?tag=foo-a').verdict, 'allow');
    assert.equal(decide([star], 'GET', '/download?tag=foo-a.b').verdict, 'deny');
    const globstar = ref({ rules: [{ allow: { method: 'GET', path: '/download', query: { tag: 'foo-**' } } }] });
    assert.equal(decide([globstar], 'GET', '/download?tag=foo-a.b').verdict, 'allow');
  });
  test('in deny rules "*" crosses dots, so a deny never covers less than it reads', () => {
    const r = ref({ access: 'full', deny_rules: [{ method: 'GET', path: '/download', query: { tag: 'v*' } }] });
    assert.equal(decide([r], 'GET', '/download?tag=v1.2.3').code, 'l7_deny_rule');
  });
});
