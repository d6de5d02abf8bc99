// Real clients inside real sandboxes, reaching servers on the host's loopback only through
// warden's egress proxy. Each denial is paired with the same request once the missing rule
// is present, so every test fails if its rule were ignored.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gitHttpBackend, makeRepo } from '../egress/git-server.js';
import { type Started, startHttp, startHttps, upstreamCA } from '../egress/helpers.js';
import { IS_ROOT, newHome, PROJECT_OWNER, SKIP_NO_BWRAP, tempDir, testEnv, WARDEN, wardenAsync, writePolicy, type Result } from './helpers.js';

const scratch = tempDir('warden-e2e-egress-');
chmodSync(scratch.dir, 0o755); // sandboxes use workdirs below it
after(() => scratch.cleanup());
// The proxy lives in the warden process: it must trust the CA of the test's HTTPS servers,
// as it trusts the public web PKI in real use.
const upstreamCaFile = path.join(scratch.dir, 'upstream-ca.pem');
writeFileSync(upstreamCaFile, upstreamCA.certPem);

let counter = 0;
interface Endpoint {
  host?: string;
  port: number;
  protocol?: 'rest';
  access?: string;
  allowed_ips?: string[] | null;
  extra?: string;
}

/** A one-rule policy: these endpoints, these binaries. */
function policyFile(endpoints: Endpoint[], binaries: string[]): string {
  const eps = endpoints.map((e) => [
    `      - host: ${e.host ?? 'localhost'}`,
    `        port: ${e.port}`,
    ...(e.protocol ? [`        protocol: ${e.protocol}`] : []),
    ...(e.access ? [`        access: ${e.access}`] : []),
    ...(e.allowed_ips === null ? [] : [`        allowed_ips: [${(e.allowed_ips ?? ['127.0.0.1']).join(', ')}]`]),
    ...(e.extra ? [e.extra] : []),
  ].join('\n'));
  const yaml = ['version: 1', 'network_policies:', '  test:', '    endpoints:', ...eps, '    binaries:',
    ...binaries.map((b) => `      - { path: "${b}" }`)].join('\n') + '\n';
  return writePolicy(scratch.dir, yaml, `policy-${++counter}.yaml`);
}

async function sandboxed(policy: string, script: string, extra: string[] = [], trustTestCA = true): Promise<Result & { events: Array<Record<string, unknown>> }> {
  const events = path.join(scratch.dir, `events-${++counter}.jsonl`);
  const r = await wardenAsync(['run', '--policy', policy, '--events', events, ...extra, '--', 'sh', '-c', script],
    { env: trustTestCA ? { NODE_EXTRA_CA_CERTS: upstreamCaFile } : {} }).done;
  let lines: Array<Record<string, unknown>> = [];
  try {
    lines = readFileSync(events, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch { /* no events */ }
  return { ...r, events: lines };
}

const CURL = (url: string) => `curl -sS -o /dev/null -w '%{http_code}\\n' ${url}`;

describe('egress from a sandbox', { skip: SKIP_NO_BWRAP }, () => {
  let web: Started;
  let secure: Started;
  const hits: string[] = [];
  before(async () => {
    const handler: http.RequestListener = (req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url}\n`);
    };
    web = await startHttp(handler);
    secure = await startHttps(upstreamCA, 'localhost', handler);
  });
  after(async () => {
    await web.close();
    await secure.close();
  });

  test('curl reaches an allowed endpoint; the denial names the missing rule on stderr and in the event log', async () => {
    const r = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/curl']), `${CURL(`http://localhost:${web.port}/ok`)}; ${CURL(`http://example.com:${web.port}/`)}`);
    assert.equal(r.stdout, '200\n403\n', r.stderr);
    assert.match(r.stderr, /^warden: denied \/usr\/bin\/curl \(pid \d+\) -> GET example\.com:\d+\/: /m);
    const denied = r.events.find((e) => e.verdict === 'deny');
    assert.equal((denied?.destination as { host: string }).host, 'example.com');
    assert.ok(r.events.some((e) => e.verdict === 'allow'), 'allowed requests are logged too');
  });

  test('the 403 body is JSON naming host, port, binary, the missing rule and a hint', async () => {
    const r = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/curl']), `curl -sS http://localhost:${web.port + 1}/x`);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(body.host, 'localhost');
    assert.equal(body.port, web.port + 1);
    assert.equal(body.binary, '/usr/bin/curl');
    assert.equal(typeof body.rule_missing, 'string');
    assert.ok((body.rule_missing as string).length > 0);
    assert.equal(typeof body.hint, 'string');
  });

  test('only listed binaries: python and wget are refused until listed', async () => {
    const script = `python3 -c 'import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).status)' http://localhost:${web.port}/py 2>&1 | tail -1; ` +
      `wget -q -O /dev/null http://localhost:${web.port}/wget; echo wget=$?`;
    const denied = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/curl']), script);
    assert.match(denied.stdout, /HTTP Error 403/);
    assert.match(denied.stdout, /wget=8/);
    // /usr/bin/python3 is a symlink: the process runs as /usr/bin/python3.11, and still matches.
    const allowed = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/python3', '/usr/bin/wget']), script);
    assert.equal(allowed.stdout, '200\nwget=0\n', allowed.stderr);
  });

  test('a binary is matched through its ancestors: allowing sh allows the curl it starts', async () => {
    const r = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/dash']), CURL(`http://localhost:${web.port}/child`));
    assert.equal(r.stdout, '200\n', r.stderr);
    const control = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/bash']), CURL(`http://localhost:${web.port}/child`));
    assert.equal(control.stdout, '403\n');
  });

  test('SSRF guard: loopback is refused unless allowed_ips names it, even when the name is allowed', async () => {
    const refused = await sandboxed(policyFile([{ port: web.port, allowed_ips: null }], ['/usr/bin/curl']), CURL(`http://localhost:${web.port}/`));
    assert.equal(refused.stdout, '403\n');
    assert.equal(refused.events.find((e) => e.verdict === 'deny')?.code, 'ssrf_blocked');
    const other = await sandboxed(policyFile([{ port: web.port, allowed_ips: ['127.0.0.2'] }], ['/usr/bin/curl']), CURL(`http://localhost:${web.port}/`));
    assert.equal(other.stdout, '403\n', 'loopback only when the exact address is named');
    const allowed = await sandboxed(policyFile([{ port: web.port, allowed_ips: ['127.0.0.1'] }], ['/usr/bin/curl']), CURL(`http://localhost:${web.port}/`));
    assert.equal(allowed.stdout, '200\n');
  });

  test('HTTPS through a plain CONNECT tunnel: end-to-end TLS with the real server', async () => {
    const work = path.join(scratch.dir, `tunnel-${++counter}`);
    mkdirSync(work);
    writeFileSync(path.join(work, 'upstream-ca.pem'), upstreamCA.certPem);
    if (IS_ROOT) chownSync(work, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
    const r = await sandboxed(policyFile([{ port: secure.port }], ['/usr/bin/curl']),
      `curl -sS --cacert /sandbox/upstream-ca.pem https://localhost:${secure.port}/tunnel; ${CURL(`https://localhost:${secure.port}/default-trust`)}`,
      ['--workdir', work]);
    // Trusting the server's own CA works: the proxy passed the TLS stream through untouched.
    // With the sandbox's default trust (system roots + sandbox CA) the test CA is unknown.
    assert.match(r.stdout, /^hello GET \/tunnel\n000\n$/, r.stderr);
  });

  test('L7 (protocol: rest): TLS terminated with the sandbox CA, each request checked', async () => {
    const policy = policyFile([{ port: secure.port, protocol: 'rest', access: 'read-only' }], ['/usr/bin/curl']);
    const r = await sandboxed(policy, `${CURL(`https://localhost:${secure.port}/read`)}; curl -sS -o /dev/null -w '%{http_code}\\n' -X POST https://localhost:${secure.port}/write`);
    assert.equal(r.stdout, '200\n403\n', r.stderr);
    assert.ok(hits.includes('GET /read'));
    assert.ok(!hits.includes('POST /write'), 'the denied request never reached the server');
    const full = await sandboxed(policyFile([{ port: secure.port, protocol: 'rest', access: 'full' }], ['/usr/bin/curl']),
      `curl -sS -o /dev/null -w '%{http_code}\\n' -X POST https://localhost:${secure.port}/write`);
    assert.equal(full.stdout, '200\n');
  });

  test('L7 with a private CA: without upstream_ca the server is refused (upstream_untrusted); with it on the endpoint, the request passes', async () => {
    // warden's process trusts only the public roots here (no NODE_EXTRA_CA_CERTS): the test
    // server's CA is private.
    const untrusted = await sandboxed(policyFile([{ port: secure.port, protocol: 'rest', access: 'read-only' }], ['/usr/bin/curl']),
      CURL(`https://localhost:${secure.port}/private-ca-refused`), [], false);
    assert.equal(untrusted.stdout, '502\n', untrusted.stderr);
    assert.match(untrusted.stderr, /localhost:\d+.*does not verify/);
    assert.ok(untrusted.events.some((e) => e.code === 'upstream_untrusted'), JSON.stringify(untrusted.events));
    assert.ok(!hits.includes('GET /private-ca-refused'), 'no request reached the server');

    const named = policyFile([{ port: secure.port, protocol: 'rest', access: 'read-only', extra: `        upstream_ca: ${upstreamCaFile}` }], ['/usr/bin/curl']);
    const trusted = await sandboxed(named, CURL(`https://localhost:${secure.port}/private-ca-named`), [], false);
    assert.equal(trusted.stdout, '200\n', trusted.stderr);
    assert.ok(hits.includes('GET /private-ca-named'));

    // A file that is not there refuses the request (fail closed), with its own code.
    const gone = policyFile([{ port: secure.port, protocol: 'rest', access: 'read-only', extra: `        upstream_ca: ${path.join(scratch.dir, 'no-such-ca.pem')}` }], ['/usr/bin/curl']);
    const missing = await sandboxed(gone, CURL(`https://localhost:${secure.port}/private-ca-missing`), [], false);
    assert.equal(missing.stdout, '502\n', missing.stderr);
    assert.ok(missing.events.some((e) => e.code === 'upstream_ca_unreadable'), JSON.stringify(missing.events));
  });

  test('NODE_EXTRA_CA_CERTS is honoured when warden starts as `warden`: its launcher keeps the file from Node, the proxy adds it, children get it back', async () => {
    // Run as users run it (the executable, through its #! line), not as `node bin/warden.js`.
    const env = testEnv({ NODE_EXTRA_CA_CERTS: upstreamCaFile });
    const policy = policyFile([{ port: secure.port, protocol: 'rest', access: 'read-only' }], ['/usr/bin/curl']);
    // Not spawnSync: the test's own server must keep answering.
    const child = spawn(WARDEN, ['run', '--policy', policy, '--', 'sh', '-c', CURL(`https://localhost:${secure.port}/extra-ca-deferred`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    await new Promise((resolve) => child.once('close', resolve));
    assert.equal(stdout, '200\n', stderr);
    assert.ok(hits.includes('GET /extra-ca-deferred'));

    const home = tempDir('warden-e2e-deferred-ca-');
    const gatewayEnv = { ...env, WARDEN_HOME: path.join(home.dir, 'home') };
    try {
      const started = spawnSync(WARDEN, ['gateway', 'start'], { env: gatewayEnv, encoding: 'utf8' });
      assert.equal(started.status, 0, started.stderr);
      const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1]);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes(`NODE_EXTRA_CA_CERTS=${upstreamCaFile}`), 'the gateway loads the file itself');
      assert.ok(!environ.some((entry) => entry.startsWith('WARDEN_DEFERRED_CA_CERTS=')));
    } finally {
      spawnSync(WARDEN, ['gateway', 'stop'], { env: gatewayEnv });
      home.cleanup();
    }
  });

  test('L7 path rules: allowed paths pass, others are denied', async () => {
    const extra = ['        rules:', '          - allow: { method: GET, path: "/api/**" }'].join('\n');
    const policy = policyFile([{ port: secure.port, protocol: 'rest', extra }], ['/usr/bin/curl']);
    const r = await sandboxed(policy, `${CURL(`https://localhost:${secure.port}/api/v1/items`)}; ${CURL(`https://localhost:${secure.port}/admin`)}; ${CURL(`https://localhost:${secure.port}/api/../admin`)}`);
    assert.equal(r.stdout, '200\n403\n403\n', r.stderr);
  });

  test('git clone over smart HTTP works for git and is refused for other binaries', async () => {
    const root = path.join(scratch.dir, `git-${++counter}`);
    mkdirSync(root);
    const repo = makeRepo(root);
    {
      const server = await startHttp(gitHttpBackend(repo.projectRoot));
      try {
        const url = `http://localhost:${server.port}/${repo.name}`;
        const script = `git clone -q ${url} /sandbox/clone 2>&1 | tail -1; cat /sandbox/clone/README 2>&1`;
        const allowed = await sandboxed(policyFile([{ port: server.port }], ['/usr/bin/git', '/usr/lib/git-core/*']), script);
        assert.match(allowed.stdout, /served through the warden egress proxy/, allowed.stderr);
        const denied = await sandboxed(policyFile([{ port: server.port }], ['/usr/bin/curl']), script);
        assert.match(denied.stdout, /403|returned error/);
      } finally {
        await server.close();
      }
    }
  });

  test('npm install from a local registry', async () => {
    const pkgDir = path.join(scratch.dir, `pkg-${++counter}`);
    mkdirSync(path.join(pkgDir, 'tiny-warden-pkg'), { recursive: true });
    writeFileSync(path.join(pkgDir, 'tiny-warden-pkg', 'package.json'), JSON.stringify({ name: 'tiny-warden-pkg', version: '1.0.0', main: 'index.js' }));
    writeFileSync(path.join(pkgDir, 'tiny-warden-pkg', 'index.js'), 'module.exports = "tiny ok";\n');
    const tarName = execFileSync('npm', ['pack', '--silent', path.join(pkgDir, 'tiny-warden-pkg')], { cwd: pkgDir, encoding: 'utf8' }).trim();
    const tarball = readFileSync(path.join(pkgDir, tarName));
    {
      let port = 0;
      const registry = await startHttp((req, res) => {
        if (req.url === '/tiny-warden-pkg') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({
            name: 'tiny-warden-pkg', 'dist-tags': { latest: '1.0.0' },
            versions: { '1.0.0': { name: 'tiny-warden-pkg', version: '1.0.0', dist: { tarball: `http://localhost:${port}/tiny.tgz` } } },
          }));
        } else if (req.url === '/tiny.tgz') {
          res.end(tarball);
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
      port = registry.port;
      try {
        const script = `cd /sandbox && npm install --no-audit --no-fund --registry http://localhost:${port}/ tiny-warden-pkg >/tmp/npm.log 2>&1; ` +
          `node -e 'console.log(require("tiny-warden-pkg"))' 2>&1 | tail -1`;
        const allowed = await sandboxed(policyFile([{ port }], ['/usr/bin/node']), script);
        assert.equal(allowed.stdout, 'tiny ok\n', allowed.stderr);
        const denied = await sandboxed(policyFile([{ port }], ['/usr/bin/curl']), script);
        assert.notEqual(denied.stdout, 'tiny ok\n');
        assert.ok(denied.events.some((e) => e.verdict === 'deny' && (e.binary as { path: string }).path === '/usr/bin/node'));
      } finally {
        await registry.close();
      }
    }
  });

  test('pip download from a local simple index', async () => {
    const wheelName = 'tinywarden-1.0-py3-none-any.whl';
    const wheel = buildWheel(path.join(scratch.dir, wheelName));
    {
      const index = await startHttp((req, res) => {
        if (req.url === '/simple/tinywarden/') {
          res.setHeader('content-type', 'text/html');
          res.end(`<html><body><a href="/files/${wheelName}">${wheelName}</a></body></html>`);
        } else if (req.url === `/files/${wheelName}`) {
          res.end(wheel);
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
      try {
        const script = `cd /sandbox && python3 -m pip download --no-deps --disable-pip-version-check -q --index-url http://localhost:${index.port}/simple/ -d /sandbox/dl tinywarden >/tmp/pip.log 2>&1; ls /sandbox/dl 2>&1`;
        const allowed = await sandboxed(policyFile([{ port: index.port }], ['/usr/bin/python3*']), script);
        assert.equal(allowed.stdout, `${wheelName}\n`, allowed.stderr);
        const denied = await sandboxed(policyFile([{ port: index.port }], ['/usr/bin/curl']), script);
        assert.doesNotMatch(denied.stdout, /tinywarden-1\.0/);
      } finally {
        await index.close();
      }
    }
  });

  test('Node: http.request through the proxy works; Node 20 fetch ignores proxy variables and gets no network', async () => {
    const script = `node -e '
      const http = require("http");
      http.get({ host: "127.0.0.1", port: 3128, path: "http://localhost:${web.port}/node", headers: { host: "localhost:${web.port}" }, agent: false }, (res) => {
        console.log("http.request", res.statusCode);
        res.resume();
        fetch("http://localhost:${web.port}/fetch").then((r) => console.log("fetch", r.status), (e) => console.log("fetch failed", e.cause?.code ?? e.message));
      });'`;
    const r = await sandboxed(policyFile([{ port: web.port }], ['/usr/bin/node']), script);
    // The response is read to its end and its connection not kept alive: node exits on its own
    // (a kept-alive socket held it until wardenAsync's 60 s kill timer).
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^http\.request 200$/m, r.stderr);
    // Node >= 22.21/24 honours NODE_USE_ENV_PROXY=1 (which warden sets) and would reach the proxy.
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 22) assert.match(r.stdout, /^fetch failed ECONNREFUSED$/m);
  });

  test('Node 20 fetch() of a name: warden says once that the program ignored the proxy, with the fix; curl through the proxy gets no such note', async () => {
    const policy = policyFile([{ port: web.port }], ['/usr/bin/node', '/usr/bin/curl']);
    const fetchTwice = `node -e '
      const get = (url) => fetch(url).then((r) => console.log("fetch", r.status), (e) => console.log("fetch failed", e.cause?.code ?? e.message));
      get("http://api.proxy-hint.test:${web.port}/a").then(() => get("http://other.proxy-hint.test:${web.port}/b"));'`;
    const r = await sandboxed(policy, fetchTwice);
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 22) {
      // Node 20's fetch looks the name up itself (warden's trap answers REFUSED) and never reaches the proxy.
      assert.match(r.stdout, /^fetch failed EAI_AGAIN$/m, r.stderr);
      const notes = r.stderr.match(/looked up \S+ itself instead of connecting through the proxy/g) ?? [];
      assert.equal(notes.length, 1, r.stderr);
      assert.match(r.stderr, /looked up api\.proxy-hint\.test itself/);
      assert.match(r.stderr, /Node 24 .*EnvHttpProxyAgent/);
    }
    // curl honours HTTP_PROXY: the proxy, not curl, handles the name (and the policy refuses it).
    const control = await sandboxed(policy, CURL(`http://api.proxy-hint.test:${web.port}/c`));
    assert.equal(control.stdout, '403\n', control.stderr);
    assert.doesNotMatch(control.stderr, /looked up/);
  });

  test('a program ignoring the proxy variables has no network at all', async () => {
    const r = await sandboxed(policyFile([{ port: web.port }], ['/**']),
      `python3 -c 'import socket\ntry:\n  socket.create_connection(("127.0.0.1", ${web.port}), timeout=2); print("connected")\nexcept OSError as e: print(e.strerror)'`);
    assert.equal(r.stdout, 'Connection refused\n');
  });
});

describe('a program that ignores the proxy, in a named sandbox', { skip: SKIP_NO_BWRAP }, () => {
  test('warden exec says it on the client\'s stderr, and the audit log records the name', async () => {
    const home = newHome();
    try {
      await home.json(['sandbox', 'create', 'lookups', '--policy', policyFile([{ port: 9 }], ['/usr/bin/node'])]);
      const r = await home.run(['exec', 'lookups', '--', 'node', '-e', 'fetch("http://named.proxy-hint.test/").catch((e) => console.log("fetch failed", e.cause?.code))']);
      const major = Number(process.versions.node.split('.')[0]);
      if (major >= 22) return; // fetch honours NODE_USE_ENV_PROXY=1 there, and looks nothing up itself
      assert.match(r.stdout, /^fetch failed EAI_AGAIN$/m, r.stderr);
      assert.match(r.stderr, /looked up named\.proxy-hint\.test itself instead of connecting through the proxy.*EnvHttpProxyAgent/);
      const logs = await home.run(['logs', 'lookups', '--json']);
      assert.ok(logs.stdout.split('\n').some((line) => line.includes('"egress.direct_lookup"') && line.includes('named.proxy-hint.test')), logs.stdout);
    } finally {
      await home.cleanup();
    }
  });
});

/** A minimal valid wheel (a zip with the metadata pip checks), built with Python's zipfile. */
function buildWheel(file: string): Buffer {
  const script = [
    'import sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1], "w")',
    'z.writestr("tinywarden/__init__.py", "VALUE = 1\\n")',
    'z.writestr("tinywarden-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: tinywarden\\nVersion: 1.0\\n")',
    'z.writestr("tinywarden-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")',
    'z.writestr("tinywarden-1.0.dist-info/RECORD", "")',
    'z.close()',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the test wheel: ${r.stderr}`);
  return readFileSync(file);
}
