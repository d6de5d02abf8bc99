import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExplainError, explainAction, type ExplainRequest, type Explanation } from '../../src/checkpoint/index.js';
import { parsePolicy } from '../../src/policy/loader.js';

const explainRequest = (p: Parameters<typeof explainAction>[0], request: ExplainRequest) => explainAction(p, request);

// Binary paths under /opt/explain-test do not exist, so no symlink resolution interferes.
const policy = parsePolicy([
  'version: 1',
  'network_policies:',
  '  pypi:',
  '    endpoints:',
  '      - { host: pypi.org, port: 443, protocol: rest, access: read-only }',
  '    binaries: [{ path: /opt/explain-test/python3 }]',
  '  github:',
  '    endpoints:',
  '      - host: github.com',
  '        port: 443',
  '        protocol: rest',
  '        rules:',
  '          - allow: { method: GET, path: "/**/info/refs*" }',
  '          - allow: { method: POST, path: "/**/git-upload-pack" }',
  '        deny_rules:',
  '          - { method: POST, path: "/**/git-receive-pack" }',
  '    binaries: [{ path: /opt/explain-test/git }, { path: "/opt/explain-test/git-core/*" }]',
  '  full_but_no_delete:',
  '    endpoints:',
  '      - host: api.example.com',
  '        port: 443',
  '        protocol: rest',
  '        access: full',
  '        deny_rules: [{ method: DELETE, path: "/**" }]',
  '    binaries: [{ path: /opt/explain-test/agent }]',
  '  audited:',
  '    endpoints:',
  '      - { host: audit.example.com, port: 443, protocol: rest, enforcement: audit, access: read-only }',
  '    binaries: [{ path: /opt/explain-test/agent }]',
  '  docs:',
  '    endpoints:',
  '      - { host: "*.readthedocs.io", ports: [443, 8443] }',
  '    binaries: [{ path: /opt/explain-test/curl }]',
  '  local_model:',
  '    endpoints:',
  '      - { host: localhost, port: 11434, allowed_ips: [127.0.0.1] }',
  '      - { host: 127.0.0.1, port: 11434, allowed_ips: [127.0.0.1] }',
  '      - { host: 127.0.0.1, port: 8000 }',
  '    binaries: [{ path: "/**" }]',
  '  ws:',
  '    endpoints:',
  '      - host: ws.example.com',
  '        port: 443',
  '        protocol: websocket',
  '        rules: [{ allow: { method: GET, path: /stream } }]',
  '    binaries: [{ path: /opt/explain-test/agent }]',
  '  claude:',
  '    endpoints:',
  '      - { host: api.anthropic.com, port: 443 }',
  '    binaries: [{ path: /opt/explain-test/claude }]',
].join('\n'), 'explain.yaml');

function hasReason(e: Explanation, fragment: string): void {
  assert.ok(e.reasons.some((r) => r.includes(fragment)), `reasons should mention "${fragment}":\n${e.reasons.join('\n')}`);
}

function lacksReason(e: Explanation, fragment: string): void {
  assert.ok(!e.reasons.some((r) => r.includes(fragment)), `reasons should not mention "${fragment}":\n${e.reasons.join('\n')}`);
}

describe('explain: allowed', () => {
  test('an exact binary on a plain tunnel: decided at the binary stage, requests not inspected', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/curl', url: 'https://en.readthedocs.io/latest/' });
    assert.equal(e.verdict, 'allow');
    assert.equal(e.stage, 'policy');
    assert.equal(e.policy, 'docs');
    assert.deepEqual(e.endpoint, { at: 'network_policies.docs.endpoints[0]', host: '*.readthedocs.io', ports: [443, 8443] });
    assert.deepEqual(e.binary, { pattern: '/opt/explain-test/curl', matched: '/opt/explain-test/curl' });
    assert.deepEqual(e.destination, { host: 'en.readthedocs.io', port: 443, method: 'GET', path: '/latest/' });
    assert.deepEqual(e.stages, ['identity:identity', 'policy:network policy', 'policy:model call policy', 'policy:content'], 'the checkpoint\'s own stages, in order');
    hasReason(e, 'plain tunnel');
  });

  test('a glob binary on an inspected endpoint: decided by the matching rule', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/git-core/git-remote-https', url: 'https://github.com/o/r/info/refs?service=git-upload-pack' });
    assert.equal(e.verdict, 'allow');
    assert.equal(e.stage, 'policy');
    assert.equal(e.rule, 'rules[0] GET /**/info/refs*');
    assert.equal(e.binary?.pattern, '/opt/explain-test/git-core/*');
    assert.equal(e.endpoint?.enforcement, 'enforce');
  });

  test('an access preset allows its methods', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/requests/', method: 'head' });
    assert.equal(e.verdict, 'allow');
    assert.equal(e.rule, 'access read-only');
    assert.equal(e.destination.method, 'HEAD');
  });

  test('an allowed ancestor allows its child, and explain says through whom', async () => {
    const e = await explainRequest(policy, { binary: '/usr/bin/node', ancestors: ['/bin/sh', '/opt/explain-test/claude'], host: 'api.anthropic.com', port: 443 });
    assert.equal(e.verdict, 'allow');
    assert.deepEqual(e.binary, { pattern: '/opt/explain-test/claude', matched: '/opt/explain-test/claude' });
    hasReason(e, 'through its ancestor /opt/explain-test/claude');
    const alone = await explainRequest(policy, { binary: '/usr/bin/node', host: 'api.anthropic.com', port: 443 });
    assert.equal(alone.verdict, 'deny');
  });

  test('every allow says that binary hashes and DNS were not checked', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/' });
    hasReason(e, 'binary hashes are not checked here');
    hasReason(e, 'pypi.org is not resolved here');
    hasReason(e, 'unless the endpoint\'s allowed_ips names the address');
    const local = await explainRequest(policy, { binary: '/usr/bin/anything', url: 'http://localhost:11434/api/tags' });
    assert.equal(local.verdict, 'allow');
    hasReason(local, 'allowed_ips it must resolve only to addresses listed there (127.0.0.1)');
  });

  test('the enforcement audit endpoint lets a would-be denial through, flagged', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'https://audit.example.com/items', method: 'POST' });
    assert.equal(e.verdict, 'allow');
    assert.equal(e.code, 'audit');
    assert.equal(e.audit, true);
    assert.equal(e.endpoint?.enforcement, 'audit');
    hasReason(e, 'enforcement: enforce this request would be denied');
    const read = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'https://audit.example.com/items' });
    assert.equal(read.code, 'allowed');
    assert.equal(read.audit, undefined);
  });

  test('a host and port without a path explain the connection and ask for a URL', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/python3', host: 'pypi.org', port: 443 });
    assert.equal(e.verdict, 'allow');
    assert.equal(e.stage, 'policy');
    hasReason(e, 'give a URL');
    const withPath = await explainRequest(policy, { binary: '/opt/explain-test/python3', host: 'pypi.org', port: 443, path: '/upload', method: 'POST' });
    assert.equal(withPath.verdict, 'deny');
    assert.equal(withPath.stage, 'policy');
  });
});

describe('explain: denied', () => {
  test('a host no policy names: endpoint stage, saying what to add', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/curl', url: 'https://evil.example/' });
    assert.equal(e.verdict, 'deny');
    assert.equal(e.stage, 'policy');
    assert.equal(e.code, 'no_endpoint');
    assert.equal(e.policy, undefined);
    hasReason(e, 'no network policy has an endpoint for evil.example');
    hasReason(e, 'add {host: evil.example, port: 443}');
  });

  test('a port the endpoint does not list: endpoint stage, naming the allowed ports', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/curl', url: 'http://en.readthedocs.io/' });
    assert.equal(e.stage, 'policy');
    assert.equal(e.code, 'port_not_allowed');
    assert.equal(e.destination.port, 80);
    hasReason(e, 'allowed on ports 443, 8443 only');
    const explicit = await explainRequest(policy, { binary: '/opt/explain-test/curl', url: 'https://en.readthedocs.io:8443/' });
    assert.equal(explicit.verdict, 'allow');
  });

  test('a binary the endpoint is not for: binary stage, naming the binaries it is for', async () => {
    const e = await explainRequest(policy, { binary: '/usr/bin/curl', url: 'https://pypi.org/simple/' });
    assert.equal(e.verdict, 'deny');
    assert.equal(e.stage, 'policy');
    assert.equal(e.code, 'binary_not_allowed');
    assert.equal(e.policy, 'pypi');
    hasReason(e, 'endpoint pypi.org:443 is allowed for /opt/explain-test/python3 only');
    hasReason(e, 'add {path: /usr/bin/curl} to binaries of network_policies.pypi');
    lacksReason(e, 'binary hashes');
  });

  test('a method the access preset does not include', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/legacy/', method: 'POST' });
    assert.equal(e.verdict, 'deny');
    assert.equal(e.stage, 'policy');
    assert.equal(e.code, 'l7_not_allowed');
    hasReason(e, 'no rule of policy pypi allows POST /legacy/');
    lacksReason(e, 'is not resolved here');
  });

  test('a path no rule covers', async () => {
    const e = await explainRequest(policy, { binary: '/opt/explain-test/git', url: 'https://github.com/o/r/archive/main.zip' });
    assert.equal(e.verdict, 'deny');
    assert.equal(e.stage, 'policy');
    assert.equal(e.rule, undefined);
    hasReason(e, 'allow: {method: GET, path: "/o/r/archive/main.zip"}');
  });

  test('deny_rules win over rules and over access full', async () => {
    const push = await explainRequest(policy, { binary: '/opt/explain-test/git', url: 'https://github.com/o/r/git-receive-pack', method: 'POST' });
    assert.equal(push.verdict, 'deny');
    assert.equal(push.code, 'l7_deny_rule');
    assert.equal(push.rule, 'deny_rules[0] POST /**/git-receive-pack');
    const del = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'https://api.example.com/v1/users/7', method: 'DELETE' });
    assert.equal(del.code, 'l7_deny_rule');
    const put = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'https://api.example.com/v1/users/7', method: 'PUT' });
    assert.equal(put.verdict, 'allow');
    assert.equal(put.rule, 'access full');
  });

  test('an IP-literal destination is checked by the SSRF guard without any resolution', async () => {
    const named = await explainRequest(policy, { binary: '/usr/bin/anything', url: 'http://127.0.0.1:11434/api' });
    assert.equal(named.verdict, 'allow');
    hasReason(named, 'address 127.0.0.1 passes the SSRF guard (allowed_ips: 127.0.0.1)');
    const unnamed = await explainRequest(policy, { binary: '/usr/bin/anything', url: 'http://127.0.0.1:8000/' });
    assert.equal(unnamed.verdict, 'deny');
    assert.equal(unnamed.stage, 'policy');
    assert.equal(unnamed.code, 'ssrf_blocked');
    hasReason(unnamed, 'allowed_ips: [127.0.0.1]');
  });
});

describe('explain: input', () => {
  test('refuses what cannot describe a proxied request', async () => {
    const bad: Array<[ExplainRequest, string]> = [
      [{ binary: 'curl', url: 'https://pypi.org/' }, 'absolute path'],
      [{ binary: '/usr/bin/curl', url: 'ftp://pypi.org/' }, 'not proxied'],
      [{ binary: '/usr/bin/curl', url: 'not a url' }, 'is not a URL'],
      [{ binary: '/usr/bin/curl', url: 'https://pypi.org/', host: 'pypi.org' }, 'not both'],
      [{ binary: '/usr/bin/curl', host: 'pypi.org' }, 'a host and a port'],
      [{ binary: '/usr/bin/curl', host: 'pypi.org', port: 70000 }, 'not a port number'],
      [{ binary: '/usr/bin/curl', host: 'bad host', port: 443 }, 'not a host name'],
      [{ binary: '/usr/bin/curl', url: 'https://pypi.org/', method: 'GE T' }, 'not an HTTP method'],
    ];
    for (const [request, fragment] of bad) {
      await assert.rejects(explainRequest(policy, request), (e: Error) => e instanceof ExplainError && e.message.includes(fragment), JSON.stringify(request));
    }
  });

  test('ws and wss URLs are checked as WebSocket upgrades', async () => {
    // The upgrade itself is allowed, but client messages are not: a WebSocket would carry them.
    const upgrade = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'wss://ws.example.com/stream' });
    assert.equal(upgrade.verdict, 'deny');
    assert.equal(upgrade.stage, 'policy');
    assert.equal(upgrade.code, 'upgrade_not_allowed');
    assert.equal(upgrade.destination.port, 443);
    hasReason(upgrade, 'would carry client messages the policy does not allow');
    // A websocket endpoint carries upgrades only: a plain GET is refused, as in OpenShell.
    const plain = await explainRequest(policy, { binary: '/opt/explain-test/agent', url: 'https://ws.example.com/stream' });
    assert.equal(plain.verdict, 'deny');
    assert.equal(plain.code, 'l7_not_allowed');
    hasReason(plain, 'carries WebSocket upgrades only');
  });
});

describe('explain: the same path as the proxy', () => {
  test('a path is used byte for byte: warden normalises it, not a URL parser', async () => {
    for (const request of [
      { binary: '/opt/explain-test/python3', host: 'pypi.org', port: 443, path: '/simple/../../etc/passwd' },
      { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/../../etc/passwd' },
    ]) {
      const e = await explainRequest(policy, request);
      assert.equal(e.verdict, 'deny', JSON.stringify(request));
      assert.equal(e.code, 'bad_path');
      assert.equal(e.destination.path, '/simple/../../etc/passwd', 'the target as the client would send it');
    }
    const dots = await explainRequest(policy, { binary: '/opt/explain-test/python3', host: 'pypi.org', port: 443, path: '/simple/./requests/../flask/' });
    assert.equal(dots.verdict, 'allow', 'dot segments inside the path resolve the way the proxy resolves them');
  });

  test('--resolve fixes what a name resolves to, so the SSRF guard is explained', async () => {
    const metadata = await explainAction(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/', resolve: { 'pypi.org': ['169.254.169.254'] } });
    assert.equal(metadata.verdict, 'deny');
    assert.equal(metadata.code, 'ssrf_blocked');
    assert.equal(metadata.stage, 'policy');
    assert.match(metadata.reason, /169\.254\.169\.254/, 'the operator is told the address');
    const rebinding = await explainAction(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/', resolve: { 'PyPI.org.': ['151.101.0.223', '10.0.0.5'] } });
    assert.equal(rebinding.code, 'ssrf_blocked', 'one internal address refuses the whole answer');
    const publicAddress = await explainAction(policy, { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/', resolve: { 'pypi.org': ['151.101.0.223'] } });
    assert.equal(publicAddress.verdict, 'allow');
    hasReason(publicAddress, 'pypi.org resolves to 151.101.0.223, which passes the SSRF guard');
    lacksReason(publicAddress, 'is not resolved here');
    const loopback = await explainAction(policy, { binary: '/usr/bin/anything', url: 'http://localhost:11434/api/tags', resolve: { localhost: ['127.0.0.1'] } });
    assert.equal(loopback.verdict, 'allow', 'loopback named exactly in allowed_ips');
    await assert.rejects(explainAction(policy, { binary: '/usr/bin/x', url: 'https://pypi.org/', resolve: { 'pypi.org': ['not-an-ip'] } }), ExplainError);
  });

  test('the JSON fields the CLI promises are always there', async () => {
    for (const request of [
      { binary: '/opt/explain-test/python3', url: 'https://pypi.org/simple/' },
      { binary: '/usr/bin/curl', url: 'https://evil.example/' },
    ]) {
      const e = await explainRequest(policy, request);
      for (const field of ['verdict', 'code', 'stage', 'reason', 'rule_missing', 'hint'] as const) {
        assert.equal(typeof e[field], 'string', `${field} of ${JSON.stringify(request)}`);
      }
    }
  });
});
