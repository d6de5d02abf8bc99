// Real clients of this machine (curl, wget, git, Python urllib, Node) through the proxy, found
// through the standard proxy variables and identified by the proxy from /proc. Every denial is
// followed by the same request with the missing rule added, which must then succeed.
//
// Node note: Node 20's built-in fetch ignores HTTP_PROXY/HTTPS_PROXY (NODE_USE_ENV_PROXY only
// arrives in later Node versions), so the Node client here uses http.request with absolute-form
// targets and CONNECT, as a proxy-aware Node library would.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NetworkEndpoint, NetworkPolicy } from '../../src/policy/types.js';
import type { DecisionCode } from '../../src/checkpoint/index.js';
import { gitEnv, gitHttpBackend, makeRepo } from './git-server.js';
import { type ProxyFixture, type Started, proxyEnv, run, startHttp, startHttps, startProxy, upstreamCA } from './helpers.js';

const LOCAL = ['127.0.0.1'];
type Method = 'GET' | 'POST';

interface Outcome {
  /** The HTTP status the client saw: a final response, or the answer to its CONNECT. */
  status: number | null;
  body: string;
  detail: string;
}

interface Client {
  name: string;
  /** The executable the policy must name. */
  exe: string;
  fetch(url: string, method: Method): Promise<Outcome>;
}

function statusFrom(text: string): number | null {
  const m = /\b(403|502|400|200|201)\b/.exec(text);
  return m ? Number(m[1]) : null;
}

function resolveExe(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) return '';
  return fs.realpathSync(r.stdout.trim());
}

/** Whether a program is installed (these tests need real clients; without one they skip). */
function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const MISSING: Record<string, string | false> = {
  curl: !have('curl') && 'curl is not installed',
  wget: !have('wget') && 'wget is not installed',
  python: !have('python3') && 'python3 is not installed',
  node: false,
  git: !have('git') && 'git is not installed',
};

function makeClients(fx: ProxyFixture): Client[] {
  const env = proxyEnv(fx);
  const python = resolveExe('python3', ['-c', 'import sys; print(sys.executable)']);
  const nodeScript = path.join(fx.dir, 'client.cjs');
  fs.writeFileSync(nodeScript, NODE_CLIENT);
  const pyScript = path.join(fx.dir, 'client.py');
  fs.writeFileSync(pyScript, PYTHON_CLIENT);
  return [
    {
      name: 'curl',
      exe: '/usr/bin/curl',
      async fetch(url, method) {
        const args = ['-sS', '--max-time', '20', '--cacert', fx.caBundle, '-w', '\n%{http_code} %{http_connect}', '-X', method, ...(method === 'POST' ? ['--data', 'x'] : []), url];
        const r = await run('curl', args, { env });
        const lines = r.stdout.split('\n');
        const [code, connectCode] = (lines.pop() ?? '').split(' ').map(Number);
        const status = code && code !== 0 ? code : connectCode && connectCode !== 0 ? connectCode : null;
        return { status, body: lines.join('\n'), detail: r.stderr };
      },
    },
    {
      name: 'wget',
      exe: '/usr/bin/wget',
      async fetch(url, method) {
        const args = ['-nv', '-S', '-O', '-', '--tries=1', '--timeout=20', '--content-on-error', `--ca-certificate=${fx.caBundle}`, `--method=${method}`, ...(method === 'POST' ? ['--body-data=x'] : []), url];
        const r = await run('wget', args, { env });
        const statuses = [...r.stderr.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
        const tunnel = /Proxy tunneling failed: Forbidden/.test(r.stderr) ? 403 : null;
        return { status: statuses.pop() ?? tunnel ?? statusFrom(r.stderr), body: r.stdout, detail: r.stderr };
      },
    },
    {
      name: 'python',
      exe: python,
      async fetch(url, method) {
        const r = await run(python, [pyScript, url, method, fx.caBundle], { env });
        try {
          const out = JSON.parse(r.stdout) as { status: number | null; body: string; error?: string };
          return { status: out.status, body: out.body, detail: out.error ?? r.stderr };
        } catch {
          return { status: null, body: '', detail: r.stdout + r.stderr };
        }
      },
    },
    {
      name: 'node',
      exe: fs.realpathSync(process.execPath),
      async fetch(url, method) {
        const r = await run(process.execPath, [nodeScript, url, method, fx.caBundle], { env });
        try {
          const out = JSON.parse(r.stdout) as { status: number | null; body: string; error?: string };
          return { status: out.status, body: out.body, detail: out.error ?? r.stderr };
        } catch {
          return { status: null, body: '', detail: r.stdout + r.stderr };
        }
      },
    },
  ];
}

const PYTHON_CLIENT = `
import json, re, ssl, sys, urllib.error, urllib.request
url, method, cafile = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
req = urllib.request.Request(url, data=b'x' if method == 'POST' else None, method=method)
try:
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        print(json.dumps({'status': r.status, 'body': r.read().decode()}))
except urllib.error.HTTPError as e:
    print(json.dumps({'status': e.code, 'body': e.read().decode()}))
except Exception as e:
    m = re.search(r'\\b(\\d{3})\\b', str(e))
    print(json.dumps({'status': int(m.group(1)) if m else None, 'body': '', 'error': str(e)}))
`;

const NODE_CLIENT = `
const http = require('node:http');
const tls = require('node:tls');
const fs = require('node:fs');
const [url, method, caFile] = process.argv.slice(2);
const target = new URL(url);
const proxy = new URL(target.protocol === 'https:' ? process.env.HTTPS_PROXY : process.env.HTTP_PROXY);
const body = method === 'POST' ? 'x' : undefined;
const done = (status, text, error) => { console.log(JSON.stringify({ status, body: text, error })); process.exit(0); };
const collect = (res) => { let t = ''; res.on('data', (d) => (t += d)); res.on('end', () => done(res.statusCode, t)); };
const port = target.port || (target.protocol === 'https:' ? 443 : 80);
if (target.protocol === 'http:') {
  const req = http.request({ host: proxy.hostname, port: proxy.port, method, path: url, headers: { Host: target.host } }, collect);
  req.on('error', (e) => done(null, '', e.message));
  req.end(body);
} else {
  const authority = target.hostname + ':' + port;
  const c = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: authority, headers: { Host: authority } });
  c.on('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      let t = head.toString(); socket.on('data', (d) => (t += d)); socket.on('close', () => done(res.statusCode, t.slice(t.indexOf('{'))));
      return;
    }
    const s = tls.connect({ socket, servername: target.hostname, ca: fs.readFileSync(caFile) }, () => {
      const req = http.request({ createConnection: () => s, method, path: target.pathname + target.search, headers: { Host: target.host } }, collect);
      req.on('error', (e) => done(null, '', e.message));
      req.end(body);
    });
    s.on('error', (e) => done(null, '', e.message));
  });
  c.on('error', (e) => done(null, '', e.message));
  c.end();
}
`;

function upstreamHandler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/items') res.end('created item');
    else if (url.startsWith('/secret/')) res.end('the secret page');
    else res.end(`hello from upstream ${url}`);
  });
}

function ep(host: string, ports: number[], extra: Partial<NetworkEndpoint> = {}): NetworkEndpoint {
  return { host, ports, allowed_ips: LOCAL, ...extra };
}
function pol(endpoints: NetworkEndpoint[], binaries: string[]): Record<string, NetworkPolicy> {
  return { test_rule: { endpoints, binaries: binaries.map((p) => ({ path: p })) } };
}

interface Scenario {
  name: string;
  method: Method;
  url(ports: Ports): string;
  host: string;
  denied(ports: Ports, exe: string): Record<string, NetworkPolicy>;
  allowed(ports: Ports, exe: string): Record<string, NetworkPolicy>;
  code: DecisionCode;
  expectBody: RegExp;
}

interface Ports {
  http: number;
  http2: number;
  https: number;
}

const l7 = (extra: Partial<NetworkEndpoint>): Partial<NetworkEndpoint> => ({ protocol: 'rest', ...extra });

const SCENARIOS: Scenario[] = [
  {
    name: 'wrong host',
    method: 'GET',
    host: 'other.test',
    url: (p) => `https://other.test:${p.https}/hello`,
    denied: (p, exe) => pol([ep('api.test', [p.https])], [exe]),
    allowed: (p, exe) => pol([ep('api.test', [p.https]), ep('other.test', [p.https])], [exe]),
    code: 'no_endpoint',
    expectBody: /hello from upstream \/hello/,
  },
  {
    name: 'wrong port',
    method: 'GET',
    host: 'api.test',
    url: (p) => `http://api.test:${p.http2}/hello`,
    denied: (p, exe) => pol([ep('api.test', [p.http])], [exe]),
    allowed: (p, exe) => pol([ep('api.test', [p.http, p.http2])], [exe]),
    code: 'port_not_allowed',
    expectBody: /hello from upstream/,
  },
  {
    name: 'wrong binary',
    method: 'GET',
    host: 'api.test',
    url: (p) => `https://api.test:${p.https}/hello`,
    denied: (p) => pol([ep('api.test', [p.https])], ['/usr/bin/false']),
    allowed: (p, exe) => pol([ep('api.test', [p.https])], ['/usr/bin/false', exe]),
    code: 'binary_not_allowed',
    expectBody: /hello from upstream/,
  },
  {
    name: 'wrong method (L7)',
    method: 'POST',
    host: 'api.test',
    url: (p) => `https://api.test:${p.https}/items`,
    denied: (p, exe) => pol([ep('api.test', [p.https], l7({ access: 'read-only' }))], [exe]),
    allowed: (p, exe) => pol([ep('api.test', [p.https], l7({ access: 'read-only', rules: [{ allow: { method: 'POST', path: '/items' } }] }))], [exe]),
    code: 'l7_not_allowed',
    expectBody: /created item/,
  },
  {
    name: 'wrong path (L7)',
    method: 'GET',
    host: 'api.test',
    url: (p) => `https://api.test:${p.https}/secret/x`,
    denied: (p, exe) => pol([ep('api.test', [p.https], l7({ rules: [{ allow: { method: 'GET', path: '/public/**' } }] }))], [exe]),
    allowed: (p, exe) => pol([ep('api.test', [p.https], l7({ rules: [{ allow: { method: 'GET', path: '/public/**' } }, { allow: { method: 'GET', path: '/secret/**' } }] }))], [exe]),
    code: 'l7_not_allowed',
    expectBody: /the secret page/,
  },
  {
    name: 'SSRF: allowed name resolving to loopback, wide CIDR',
    method: 'GET',
    host: 'internal.test',
    url: (p) => `http://internal.test:${p.http}/hello`,
    denied: (p, exe) => pol([ep('internal.test', [p.http], { allowed_ips: ['127.0.0.0/8'] })], [exe]),
    allowed: (p, exe) => pol([ep('internal.test', [p.http], { allowed_ips: ['127.0.0.1'] })], [exe]),
    code: 'ssrf_blocked',
    expectBody: /hello from upstream/,
  },
  {
    name: 'SSRF over CONNECT: no allowed_ips',
    method: 'GET',
    host: 'internal.test',
    url: (p) => `https://internal.test:${p.https}/hello`,
    denied: (p, exe) => pol([{ host: 'internal.test', ports: [p.https] }], [exe]),
    allowed: (p, exe) => pol([ep('internal.test', [p.https])], [exe]),
    code: 'ssrf_blocked',
    expectBody: /hello from upstream/,
  },
];

describe('real clients through the proxy', () => {
  let fx: ProxyFixture;
  let servers: Started[] = [];
  let ports: Ports;
  let clients: Client[];

  before(async () => {
    const a = await startHttp(upstreamHandler);
    const b = await startHttp(upstreamHandler);
    const s = await startHttps(upstreamCA, 'api.test', upstreamHandler);
    servers = [a, b, s];
    ports = { http: a.port, http2: b.port, https: s.port };
    fx = await startProxy({});
    clients = makeClients(fx);
  });
  after(async () => {
    await fx.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  for (const clientName of ['curl', 'wget', 'python', 'node']) {
    describe(clientName, { skip: MISSING[clientName] ?? false }, () => {
      for (const sc of SCENARIOS) {
        test(`${sc.name}: denied with the documented 403, allowed once the rule is present`, async () => {
          const client = clients.find((c) => c.name === clientName)!;
          const url = sc.url(ports);

          fx.setPolicy(sc.denied(ports, client.exe));
          const mark = fx.events.length;
          const denied = await client.fetch(url, sc.method);
          assert.equal(denied.status, 403, `${client.name} should see 403; got ${JSON.stringify(denied)}`);
          if (denied.body.trim().startsWith('{')) {
            const body = JSON.parse(denied.body) as Record<string, unknown>;
            assert.equal(body.code, sc.code);
            assert.equal(body.host, sc.host);
            assert.equal(body.binary, client.exe);
            assert.equal(typeof body.rule_missing, 'string');
            assert.ok((body.rule_missing as string).length > 0);
          }
          const ev = fx.events.slice(mark).find((e) => e.verdict === 'deny');
          assert.ok(ev, 'a deny event was emitted');
          assert.equal(ev.code, sc.code);
          assert.equal(ev.binary.path, client.exe);
          assert.equal(ev.destination?.host, sc.host);

          fx.setPolicy(sc.allowed(ports, client.exe));
          const allowed = await client.fetch(url, sc.method);
          assert.equal(allowed.status, 200, `${client.name} should succeed; got ${JSON.stringify(allowed)}`);
          assert.match(allowed.body, sc.expectBody);
        });
      }
    });
  }
});

describe('git clone and push over smart HTTP through the proxy', { skip: MISSING.git ?? false }, () => {
  let fx: ProxyFixture;
  let servers: Started[] = [];
  let root: string;
  let repo: { projectRoot: string; name: string };
  let port1: number;
  let port2: number;

  before(async () => {
    fx = await startProxy({});
    root = fs.mkdtempSync(path.join(fx.dir, 'git-'));
    repo = makeRepo(root);
    const a = await startHttps(upstreamCA, 'git.test', gitHttpBackend(repo.projectRoot));
    const b = await startHttps(upstreamCA, 'git.test', gitHttpBackend(repo.projectRoot));
    servers = [a, b];
    port1 = a.port;
    port2 = b.port;
  });
  after(async () => {
    await fx.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  const GIT_BINARIES = ['/usr/bin/git', '/usr/lib/git-core/*'];
  const cloneRules = { rules: [{ allow: { method: 'GET', path: '/**/info/refs*' } }, { allow: { method: 'POST', path: '/**/git-upload-pack' } }] };
  const gitEp = (host: string, ports: number[], extra: Partial<NetworkEndpoint> = cloneRules): NetworkEndpoint => ep(host, ports, { protocol: 'rest', ...extra });
  let n = 0;

  async function clone(host: string, port: number): Promise<{ ok: boolean; stderr: string; dir: string }> {
    const dir = path.join(root, `clone-${n++}`);
    const r = await run('git', ['clone', '-q', `https://${host}:${port}/${repo.name}`, dir], { env: gitEnv(root, { ...proxyEnv(fx), HOME: root, GIT_SSL_CAINFO: fx.caBundle }) });
    return { ok: r.code === 0 && fs.existsSync(path.join(dir, 'README')), stderr: r.stderr, dir };
  }

  function lastDeny(mark: number) {
    return fx.events.slice(mark).find((e) => e.verdict === 'deny');
  }

  const cases: Array<{ name: string; host: string; port: () => number; denied: () => Record<string, NetworkPolicy>; allowed: () => Record<string, NetworkPolicy>; code: DecisionCode }> = [
    { name: 'wrong host', host: 'other.test', port: () => port1, denied: () => pol([gitEp('git.test', [port1])], GIT_BINARIES), allowed: () => pol([gitEp('git.test', [port1]), gitEp('other.test', [port1])], GIT_BINARIES), code: 'no_endpoint' },
    { name: 'wrong port', host: 'git.test', port: () => port2, denied: () => pol([gitEp('git.test', [port1])], GIT_BINARIES), allowed: () => pol([gitEp('git.test', [port1, port2])], GIT_BINARIES), code: 'port_not_allowed' },
    { name: 'wrong binary', host: 'git.test', port: () => port1, denied: () => pol([gitEp('git.test', [port1])], ['/usr/bin/curl']), allowed: () => pol([gitEp('git.test', [port1])], ['/usr/bin/curl', '/usr/bin/git']), code: 'binary_not_allowed' },
    {
      name: 'wrong method (only GET allowed)',
      host: 'git.test',
      port: () => port1,
      denied: () => pol([gitEp('git.test', [port1], { rules: [{ allow: { method: 'GET', path: '/**' } }] })], GIT_BINARIES),
      allowed: () => pol([gitEp('git.test', [port1], { rules: [{ allow: { method: 'GET', path: '/**' } }, { allow: { method: 'POST', path: '/**/git-upload-pack' } }] })], GIT_BINARIES),
      code: 'l7_not_allowed',
    },
    {
      name: 'wrong path',
      host: 'git.test',
      port: () => port1,
      denied: () => pol([gitEp('git.test', [port1], { rules: [{ allow: { method: 'GET', path: '/**/info/refs*' } }, { allow: { method: 'POST', path: '/other/**' } }] })], GIT_BINARIES),
      allowed: () => pol([gitEp('git.test', [port1])], GIT_BINARIES),
      code: 'l7_not_allowed',
    },
    { name: 'SSRF', host: 'internal.test', port: () => port1, denied: () => pol([{ host: 'internal.test', ports: [port1], protocol: 'rest', ...cloneRules }], GIT_BINARIES), allowed: () => pol([gitEp('internal.test', [port1])], GIT_BINARIES), code: 'ssrf_blocked' },
  ];

  test('clone works with the clone-only rules', async () => {
    fx.setPolicy(pol([gitEp('git.test', [port1])], GIT_BINARIES));
    const r = await clone('git.test', port1);
    assert.ok(r.ok, r.stderr);
    const l7 = fx.events.filter((e) => e.layer === 'l7' && e.verdict === 'allow');
    assert.ok(l7.some((e) => e.method === 'GET' && /info\/refs$/.test(e.path ?? '')));
    assert.ok(l7.some((e) => e.method === 'POST' && /git-upload-pack$/.test(e.path ?? '')));
    // the connection is made by git's https helper; /usr/bin/git is its ancestor
    const ev = l7.at(-1)!;
    assert.match(ev.binary.path, /git-remote-http/);
    assert.ok(ev.binary.ancestors.includes('/usr/bin/git'));
  });

  for (const c of cases) {
    test(`${c.name}: clone refused, then allowed once the rule is present`, async () => {
      fx.setPolicy(c.denied());
      const mark = fx.events.length;
      const denied = await clone(c.host, c.port());
      assert.equal(denied.ok, false);
      assert.match(denied.stderr, /403|CONNECT tunnel failed/);
      const ev = lastDeny(mark);
      assert.equal(ev?.code, c.code);
      assert.match(ev?.binary.path ?? '', /git/);
      fx.setPolicy(c.allowed());
      const allowed = await clone(c.host, c.port());
      assert.ok(allowed.ok, allowed.stderr);
    });
  }

  test('push is refused by a deny rule, and works once receive-pack is allowed', async () => {
    fx.setPolicy(pol([gitEp('git.test', [port1])], GIT_BINARIES));
    const c = await clone('git.test', port1);
    assert.ok(c.ok, c.stderr);
    const env = gitEnv(root, { ...proxyEnv(fx), HOME: root, GIT_SSL_CAINFO: fx.caBundle });
    fs.writeFileSync(path.join(c.dir, 'NEW'), 'change\n');
    await run('git', ['-C', c.dir, 'add', 'NEW'], { env });
    await run('git', ['-C', c.dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'change'], { env });

    const denyPush = { ...cloneRules, deny_rules: [{ method: 'POST', path: '/**/git-receive-pack' }, { method: 'GET', path: '/**/info/refs', query: { service: 'git-receive-pack' } }] };
    fx.setPolicy(pol([gitEp('git.test', [port1], { ...denyPush, rules: [...cloneRules.rules, { allow: { method: 'GET', path: '/**/info/refs' } }] })], GIT_BINARIES));
    const mark = fx.events.length;
    const refused = await run('git', ['-C', c.dir, 'push', '-q', 'origin', 'main'], { env });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /403/);
    assert.equal(lastDeny(mark)?.code, 'l7_deny_rule');

    fx.setPolicy(pol([gitEp('git.test', [port1], { rules: [...cloneRules.rules, { allow: { method: 'GET', path: '/**/info/refs' } }, { allow: { method: 'POST', path: '/**/git-receive-pack' } }] })], GIT_BINARIES));
    const pushed = await run('git', ['-C', c.dir, 'push', '-q', 'origin', 'main'], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    const log = spawnSync('git', ['--git-dir', path.join(repo.projectRoot, repo.name), 'log', '--oneline'], { encoding: 'utf8' });
    assert.match(log.stdout, /change/);
  });
});
