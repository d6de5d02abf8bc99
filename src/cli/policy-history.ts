// `warden policy get|history|diff|explain NAME`: read from the store, no gateway needed.
import { stringify } from 'yaml';
import { explainRequest } from '../egress/index.js';
import { diffPolicies, parsePolicy, renderDiff, type Policy } from '../policy/index.js';
import { openStore, wardenHome, type PolicyRevision, type Store } from '../store/index.js';
import { CliError, printLine } from './output.js';

export async function policyGet(name: string, rev: string | undefined, json: boolean): Promise<number> {
  return withStore((store) => {
    const revision = rev === undefined ? current(store, name) : revisionOf(store, name, rev);
    if (json) printLine(1, JSON.stringify({ name, rev: revision.rev, policy: revision.policy }));
    else process.stdout.write(`# sandbox ${name}, policy revision ${revision.rev} (${revision.createdAt}, ${revision.author})\n${stringify(revision.policy)}`);
    return 0;
  });
}

export async function policyHistory(name: string, json: boolean): Promise<number> {
  return withStore((store) => {
    current(store, name);
    const revisions = store.policies.list(name);
    if (json) {
      printLine(1, JSON.stringify(revisions.map(({ policy: _policy, ...rest }) => rest)));
      return 0;
    }
    for (const r of revisions) {
      const changes = (r.diff as { changes?: unknown[] } | null)?.changes?.length ?? 0;
      printLine(1, `${String(r.rev).padStart(4)}  ${r.createdAt}  ${r.author}  ${r.reason ?? ''}${r.rev > 1 ? `  (${changes} change${changes === 1 ? '' : 's'})` : ''}`);
    }
    return 0;
  });
}

export async function policyDiff(name: string, a: string, b: string, json: boolean): Promise<number> {
  return withStore((store) => {
    const diff = diffPolicies(asPolicy(revisionOf(store, name, a)), asPolicy(revisionOf(store, name, b)));
    if (json) printLine(1, JSON.stringify(diff));
    else printLine(1, diff.changes.length === 0 ? `revisions ${a} and ${b} are the same` : renderDiff(diff));
    return 0;
  });
}

export async function policyExplain(name: string, target: string, binary: string, method: string | undefined, json: boolean): Promise<number> {
  return withStore((store) => {
    const policy = asPolicy(current(store, name));
    const hostPort = /^\[?([^\]/]+?)\]?:(\d+)$/.exec(target);
    const request = /^[a-z]+:\/\//i.test(target)
      ? { binary, url: target, method }
      : hostPort ? { binary, host: hostPort[1]!, port: Number(hostPort[2]), method } : undefined;
    if (!request) throw new CliError('usage', `${JSON.stringify(target)}: give a URL (https://host/path) or HOST:PORT`, 2);
    let explanation;
    try {
      explanation = explainRequest(policy, request);
    } catch (error) {
      throw new CliError('usage', (error as Error).message, 2);
    }
    if (json) printLine(1, JSON.stringify(explanation));
    else {
      printLine(1, `${explanation.verdict.toUpperCase()} (${explanation.stage}${explanation.policy ? `, policy ${explanation.policy}` : ''}${explanation.rule ? `, ${explanation.rule}` : ''})`);
      for (const reason of explanation.reasons) printLine(1, `  - ${reason}`);
    }
    return explanation.verdict === 'allow' ? 0 : 1;
  });
}

function withStore(fn: (store: Store) => number): number {
  const store = openStore(wardenHome());
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function current(store: Store, name: string): PolicyRevision {
  const revision = store.policies.current(name);
  if (!revision) throw new CliError('not_found', `no sandbox named ${name} (\`warden sandbox list\` shows them)`, 1);
  return revision;
}

function revisionOf(store: Store, name: string, rev: string): PolicyRevision {
  const number = Number(rev);
  if (!Number.isInteger(number) || number < 1) throw new CliError('usage', `revision ${JSON.stringify(rev)}: give a number (\`warden policy history ${name}\` lists them)`, 2);
  current(store, name);
  const revision = store.policies.get(name, number);
  if (!revision) throw new CliError('not_found', `sandbox ${name} has no policy revision ${number} (\`warden policy history ${name}\` lists them)`, 1);
  return revision;
}

function asPolicy(revision: PolicyRevision): Policy {
  return parsePolicy(JSON.stringify(revision.policy), `revision ${revision.rev}`);
}
