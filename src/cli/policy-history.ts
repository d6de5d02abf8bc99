// `warden policy get|history|diff|explain`: read from the store (or a file), no gateway needed.
import { stringify } from 'yaml';
import { explainAction, ExplainError, type ExplainRequest } from '../checkpoint/index.js';
import { governanceStages } from '../governance/index.js';
import { policyLoader, type Policy, type PolicyChange, type PolicyLoader } from '../policy/index.js';
import type { ExplainOptions } from './gateway-commands.js';
import { describeReadError } from './policy.js';
import { openStore, wardenHome, type PolicyRevision, type Store } from '../store/index.js';
import { CliError, printJsonResult, printLine } from './output.js';

export async function policyGet(name: string, rev: string | undefined, json: boolean): Promise<number> {
  return withStore((store) => {
    const revision = rev === undefined ? current(store, name) : revisionOf(store, name, rev);
    if (json) printJsonResult({ name, rev: revision.rev, policy: revision.policy });
    else process.stdout.write(`# sandbox ${name}, policy revision ${revision.rev} (${revision.createdAt}, ${revision.author})\n${stringify(revision.policy)}`);
    return 0;
  });
}

export async function policyHistory(name: string, json: boolean): Promise<number> {
  return withStore((store) => {
    current(store, name);
    const revisions = store.policies.list(name);
    if (json) {
      printJsonResult(revisions.map(({ policy: _policy, ...rest }) => rest));
      return 0;
    }
    for (const r of revisions) {
      const changes = (r.diff as { changes?: unknown[] } | null)?.changes?.length ?? 0;
      printLine(1, `${String(r.rev).padStart(4)}  ${r.createdAt}  ${r.author}  ${r.reason ?? ''}${r.rev > 1 ? `  (${changes} change${changes === 1 ? '' : 's'})` : ''}`);
    }
    return 0;
  });
}

/** `policy update --dry-run`: the changes applied to the current revision here, shown, and not stored. */
export async function policyDryRun(name: string, changes: PolicyChange[], json: boolean): Promise<number> {
  const loader = await policyLoader();
  return withStore((store) => {
    const before = asPolicy(loader, current(store, name));
    let after: Policy;
    try {
      after = loader.applyPolicyChanges(before, changes);
    } catch (error) {
      if (error instanceof loader.PolicyChangeError) throw new CliError('policy_change', `${error.message}. Nothing was changed (dry run).`, 1);
      throw error;
    }
    const diff = loader.diffPolicies(before, after);
    if (json) printJsonResult({ name, dryRun: true, diff });
    else printLine(1, `sandbox ${name}: dry run, nothing was changed${diff.changes.length === 0 ? '; the policy would stay the same' : `\n${loader.renderDiff(diff)}`}`);
    return 0;
  });
}

export async function policyDiff(name: string, a: string, b: string, json: boolean): Promise<number> {
  const loader = await policyLoader();
  const { diffPolicies, renderDiff } = loader;
  return withStore((store) => {
    const diff = diffPolicies(asPolicy(loader, revisionOf(store, name, a)), asPolicy(loader, revisionOf(store, name, b)));
    if (json) printJsonResult(diff);
    else printLine(1, diff.changes.length === 0 ? `revisions ${a} and ${b} are the same` : renderDiff(diff));
    return 0;
  });
}

export async function policyExplain(args: string[], opts: ExplainOptions): Promise<number> {
  const expected = opts.policy === undefined ? 2 : 1;
  if (args.length !== expected) {
    throw new CliError('usage', opts.policy === undefined
      ? 'usage: warden policy explain NAME TARGET --binary PATH (or --policy FILE TARGET --binary PATH)'
      : 'usage: warden policy explain --policy FILE TARGET --binary PATH (no sandbox NAME with --policy)', 2);
  }
  const target = args[expected - 1]!;
  const loader = await policyLoader();
  const policy = opts.policy === undefined ? withStore((store) => asPolicy(loader, current(store, args[0]!))) : policyFromFile(loader, opts.policy);
  const request: ExplainRequest = { binary: opts.binary, ...targetOf(target, opts), resolve: resolveTable(opts.resolve ?? []) };
  if (opts.ancestor) request.ancestors = opts.ancestor;
  let explanation;
  try {
    explanation = await explainAction(policy, request, governanceStages());
  } catch (error) {
    if (error instanceof ExplainError) throw new CliError('usage', error.message, 2);
    throw error;
  }
  if (opts.json) {
    printJsonResult(explanation, explanation.verdict === 'allow' ? undefined : { code: explanation.code, message: explanation.reasons.join('; ') });
  } else {
    const where = [explanation.stage, explanation.code, explanation.policy ? `policy ${explanation.policy}` : '', explanation.rule ?? ''].filter((part) => part !== '');
    printLine(1, `${explanation.verdict.toUpperCase()} (${where.join(', ')})`);
    for (const reason of explanation.reasons) printLine(1, `  - ${reason}`);
  }
  return explanation.verdict === 'allow' ? 0 : 1;
}

function targetOf(target: string, opts: ExplainOptions): Partial<ExplainRequest> {
  if (/^[a-z]+:\/\//i.test(target)) {
    if (opts.path !== undefined) throw new CliError('usage', '--path goes with HOST:PORT; a URL carries its own path', 2);
    return { url: target, ...(opts.method !== undefined ? { method: opts.method } : {}) };
  }
  const hostPort = /^\[?([^\]/]+?)\]?:(\d+)$/.exec(target);
  if (!hostPort) throw new CliError('usage', `${JSON.stringify(target)}: give a URL (https://host/path) or HOST:PORT`, 2);
  return {
    host: hostPort[1]!, port: Number(hostPort[2]),
    ...(opts.method !== undefined ? { method: opts.method } : {}),
    ...(opts.path !== undefined ? { path: opts.path } : {}),
  };
}

/** --resolve HOST:ADDRESS (IPv6 addresses in brackets or bare after the first colon). */
function resolveTable(entries: string[]): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) throw new CliError('usage', `--resolve ${JSON.stringify(entry)}: write HOST:ADDRESS, such as api.example.com:93.184.216.34`, 2);
    const host = entry.slice(0, colon);
    const address = entry.slice(colon + 1).replace(/^\[(.*)\]$/, '$1');
    (table[host] ??= []).push(address);
  }
  return table;
}

function policyFromFile({ loadPolicyFile, policyWarnings, formatWarning, PolicyError }: PolicyLoader, file: string): Policy {
  try {
    const policy = loadPolicyFile(file);
    for (const warning of policyWarnings(policy)) printLine(2, formatWarning(warning));
    return policy;
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError('policy_invalid', `invalid policy:\n${error.format()}`, 1, { diagnostics: error.diagnostics });
    if (error instanceof Error && (error as NodeJS.ErrnoException).code !== undefined) {
      throw new CliError('policy_unreadable', describeReadError(file, error as NodeJS.ErrnoException), 1);
    }
    throw error;
  }
}

function withStore<T>(fn: (store: Store) => T): T {
  const store = openStore(wardenHome());
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function current(store: Store, name: string): PolicyRevision {
  const revision = store.policies.current(name);
  if (!revision) throw new CliError('no_such_sandbox', `no sandbox named ${name} (\`warden sandbox list\` shows them)`, 1);
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

/** A stored revision, checked again (its warnings were shown when it was set). */
function asPolicy({ parsePolicy }: PolicyLoader, revision: PolicyRevision): Policy {
  return parsePolicy(JSON.stringify(revision.policy), `revision ${revision.rev}`);
}
