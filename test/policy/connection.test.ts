import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NetworkPolicy } from '../../src/policy/types.js';
import { CompiledPolicy } from '../../src/policy/connection.js';
import { BinaryLedger } from '../../src/policy/integrity.js';
import type { ProcessIdentity } from '../../src/policy/verdict.js';

function who(exe: string, ancestors: string[] = [], sha = 'a'.repeat(64)): ProcessIdentity {
  return { pid: 100, exe, exeSha256: sha, ancestors: ancestors.map((a, i) => ({ pid: 99 - i, exe: a, exeSha256: `${i}`.repeat(64) })) };
}

const policies: Record<string, NetworkPolicy> = {
  github: {
    endpoints: [
      { host: 'github.com', ports: [443] },
      { host: 'api.github.com', ports: [443], protocol: 'rest', access: 'read-only' },
    ],
    binaries: [{ path: '/usr/bin/git' }, { path: '/usr/lib/git-core/*' }],
  },
  docs: {
    endpoints: [{ host: '*.readthedocs.io', ports: [443, 8443] }],
    binaries: [{ path: '/usr/bin/curl' }],
  },
  deep: {
    endpoints: [{ host: '**.corp.example', ports: [80] }],
    binaries: [{ path: '/opt/agent/**' }],
  },
  agent: {
    endpoints: [{ host: 'api.anthropic.com', ports: [443] }],
    binaries: [{ path: '/usr/local/bin/claude' }],
  },
};

describe('connection decisions', () => {
  const p = new CompiledPolicy(policies);
  const decide = (host: string, port: number, id: ProcessIdentity, ledger = new BinaryLedger()) => p.decideConnection(host, port, id, ledger);

  test('a rule allows every listed binary to every listed endpoint', () => {
    for (const bin of ['/usr/bin/git', '/usr/lib/git-core/git-remote-https']) {
      for (const host of ['github.com', 'api.github.com']) {
        const d = decide(host, 443, who(bin));
        assert.equal(d.verdict, 'allow', `${bin} -> ${host}`);
        assert.equal(d.policy, 'github');
      }
    }
  });

  test('unknown host: no_endpoint, naming the missing endpoint', () => {
    const d = decide('gitlab.com', 443, who('/usr/bin/git'));
    assert.equal(d.verdict, 'deny');
    assert.equal(d.code, 'no_endpoint');
    assert.match(d.rule_missing, /gitlab\.com.*443/);
    assert.match(d.hint, /\/usr\/bin\/git/);
  });

  test('wrong port: port_not_allowed, naming the policy', () => {
    const d = decide('github.com', 22, who('/usr/bin/git'));
    assert.equal(d.code, 'port_not_allowed');
    assert.equal(d.policy, 'github');
    assert.match(d.rule_missing, /port 22/);
  });

  test('wrong binary: binary_not_allowed', () => {
    const d = decide('github.com', 443, who('/usr/bin/curl'));
    assert.equal(d.code, 'binary_not_allowed');
    assert.match(d.rule_missing, /\/usr\/bin\/curl.*network_policies\.github/);
  });

  test('an allowed ancestor allows its descendants', () => {
    const viaAncestor = decide('api.anthropic.com', 443, who('/usr/bin/node', ['/usr/local/bin/claude', '/bin/bash']));
    assert.equal(viaAncestor.verdict, 'allow');
    assert.match(viaAncestor.rule ?? '', /ancestor \/usr\/local\/bin\/claude/);
    assert.equal(decide('api.anthropic.com', 443, who('/usr/bin/node', ['/bin/bash'])).verdict, 'deny');
  });

  test('wildcard hosts and case/trailing-dot insensitivity', () => {
    assert.equal(decide('proj.readthedocs.io', 8443, who('/usr/bin/curl')).verdict, 'allow');
    assert.equal(decide('a.b.readthedocs.io', 443, who('/usr/bin/curl')).code, 'no_endpoint');
    assert.equal(decide('readthedocs.io', 443, who('/usr/bin/curl')).code, 'no_endpoint');
    assert.equal(decide('x.y.corp.example', 80, who('/opt/agent/bin/run')).verdict, 'allow');
    assert.equal(decide('corp.example', 80, who('/opt/agent/bin/run')).code, 'no_endpoint');
  });

  test('raw vs inspected connections', () => {
    assert.equal(decide('github.com', 443, who('/usr/bin/git')).raw, true);
    const inspected = decide('api.github.com', 443, who('/usr/bin/git'));
    assert.equal(inspected.raw, false);
    assert.equal(inspected.matches[0]?.inspect, true);
  });

  test('an L4 and an L7 endpoint for the same host and port: inspection wins, the tunnel never switches the rules off', () => {
    const overlap = new CompiledPolicy({
      tunnel: { endpoints: [{ host: 'api.example.com', ports: [443] }], binaries: [{ path: '/usr/bin/curl' }] },
      inspected: {
        endpoints: [{ host: '*.example.com', ports: [443], protocol: 'rest', access: 'full', deny_rules: [{ method: 'DELETE', path: '/**' }] }],
        binaries: [{ path: '/usr/bin/curl' }],
      },
    });
    const d = overlap.decideConnection('api.example.com', 443, who('/usr/bin/curl'), new BinaryLedger());
    assert.equal(d.verdict, 'allow');
    assert.equal(d.raw, false);
    assert.equal(overlap.decideConnection('other.example.com', 443, who('/usr/bin/curl'), new BinaryLedger()).raw, false);
  });

  test('trust on first use: a changed binary at the same path is refused', () => {
    const ledger = new BinaryLedger();
    assert.equal(decide('github.com', 443, who('/usr/bin/git', [], 'a'.repeat(64)), ledger).verdict, 'allow');
    assert.equal(decide('github.com', 443, who('/usr/bin/git', [], 'a'.repeat(64)), ledger).verdict, 'allow');
    const changed = decide('github.com', 443, who('/usr/bin/git', [], 'b'.repeat(64)), ledger);
    assert.equal(changed.verdict, 'deny');
    assert.equal(changed.code, 'binary_changed');
    assert.match(changed.reason, /binary changed/);
    // a fresh proxy (fresh ledger) trusts what it sees first
    assert.equal(decide('github.com', 443, who('/usr/bin/git', [], 'b'.repeat(64))).verdict, 'allow');
  });

  test('an ancestor relied upon must keep its hash too', () => {
    const ledger = new BinaryLedger();
    const id = (sha: string): ProcessIdentity => ({ pid: 5, exe: '/usr/bin/node', exeSha256: 'n'.repeat(64), ancestors: [{ pid: 4, exe: '/usr/local/bin/claude', exeSha256: sha }] });
    assert.equal(decide('api.anthropic.com', 443, id('1'.repeat(64)), ledger).verdict, 'allow');
    assert.equal(decide('api.anthropic.com', 443, id('2'.repeat(64)), ledger).code, 'binary_changed');
    const noHash: ProcessIdentity = { pid: 5, exe: '/usr/bin/node', exeSha256: 'n'.repeat(64), ancestors: [{ pid: 4, exe: '/usr/local/bin/claude' }] };
    assert.equal(decide('api.anthropic.com', 443, noHash, new BinaryLedger()).code, 'binary_changed');
  });

  test('a socket shared with a process that is not allowed is refused', () => {
    const shared: ProcessIdentity = { ...who('/usr/bin/git'), sharedWith: [who('/tmp/evil')] };
    const d = decide('github.com', 443, shared);
    assert.equal(d.code, 'shared_socket');
    assert.match(d.reason, /\/tmp\/evil/);
    const benign: ProcessIdentity = { ...who('/usr/bin/git'), sharedWith: [who('/usr/lib/git-core/git-remote-https')] };
    assert.equal(decide('github.com', 443, benign).verdict, 'allow');
  });

  test('lookup cost does not depend on the number of rules', () => {
    const many: Record<string, NetworkPolicy> = {};
    for (let i = 0; i < 10_000; i++) many[`r${i}`] = { endpoints: [{ host: `h${i}.example.com`, ports: [443] }], binaries: [{ path: '/usr/bin/curl' }] };
    const big = new CompiledPolicy(many);
    assert.equal(big.endpointCount, 10_000);
    assert.equal(big.decideConnection('h9999.example.com', 443, who('/usr/bin/curl'), new BinaryLedger()).policy, 'r9999');
    assert.equal(big.decideConnection('h10000.example.com', 443, who('/usr/bin/curl'), new BinaryLedger()).code, 'no_endpoint');
  });
});
