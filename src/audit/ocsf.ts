// Maps audit records to OCSF-shaped events (schema 1.3). "Shaped": every event carries the
// base attributes (class, category, activity, type_uid, time, severity, metadata) and the
// attributes below where warden knows them; warden does not validate against the OCSF schema.
// Nothing is dropped: the complete original record, hashes included, is under
// `unmapped.warden`, so an OCSF export can still be checked against the chain.
//
//   egress.verdict without an HTTP method  -> Network Activity (4001): Open (1) when allowed,
//                                             Refuse (5) when denied
//   egress.verdict with an HTTP method     -> HTTP Activity (4002): activity from the method
//                                             (Connect 1 ... Patch 9, otherwise Other 99)
//   sandbox.created / sandbox.deleted      -> Entity Management (3004): Create (1) / Delete (4)
//   policy.revision                        -> Entity Management (3004): Update (3) of the
//                                             sandbox's policy, entity.version = revision
//   other sandbox.* (started, stopped...)  -> Entity Management (3004): Other (99)
//   anything else                          -> Base Event (0): Other (99)
// Egress verdicts also carry action_id / disposition_id (security_control profile):
// Allowed (1) / Denied (2) and Allowed (1) / Blocked (2).
import type { AuditRecord } from './append.js';

export const OCSF_VERSION = '1.3.0';

type Json = Record<string, unknown>;

const HTTP_ACTIVITY: Record<string, number> = {
  CONNECT: 1, DELETE: 2, GET: 3, HEAD: 4, OPTIONS: 5, POST: 6, PUT: 7, TRACE: 8, PATCH: 9,
};

const ENTITY_ACTIVITY: Record<string, [number, string]> = {
  'sandbox.created': [1, 'Create'],
  'sandbox.deleted': [4, 'Delete'],
  'policy.revision': [3, 'Update'],
};

const asObject = (value: unknown): Json => typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {};
const asString = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined;
const asNumber = (value: unknown): number | undefined => typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Drops undefined members so absent facts are absent, not null. */
function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function base(record: AuditRecord, classUid: number, categoryUid: number, activityId: number, activityName: string, profiles: string[] = []): Json {
  return {
    class_uid: classUid,
    category_uid: categoryUid,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    time: Date.parse(record.ts),
    severity_id: 1,
    metadata: compact({
      version: OCSF_VERSION,
      product: { name: 'warden', vendor_name: 'warden' },
      log_name: 'audit',
      sequence: record.seq,
      uid: record.hash,
      profiles: profiles.length > 0 ? profiles : undefined,
    }),
  };
}

function unmapped(record: AuditRecord): Json {
  return {
    warden: {
      seq: record.seq, ts: record.ts, kind: record.kind, sandbox: record.sandbox, actor: record.actor,
      payload: record.payload, prev_hash: record.prevHash, hash: record.hash,
    },
  };
}

function egressVerdict(record: AuditRecord): Json {
  const p = asObject(record.payload);
  const allowed = p.verdict === 'allow';
  const destination = asObject(p.destination);
  const method = asString(p.method)?.toUpperCase();
  const dst = compact({ hostname: asString(destination.host), port: asNumber(destination.port), ip: asString(destination.ip) });
  const security = {
    action_id: allowed ? 1 : 2,
    action: allowed ? 'Allowed' : 'Denied',
    disposition_id: allowed ? 1 : 2,
    disposition: allowed ? 'Allowed' : 'Blocked',
    status_id: allowed ? 1 : 2,
    status: allowed ? 'Success' : 'Failure',
    message: asString(p.reason),
    src_endpoint: record.sandbox === null ? undefined : { name: record.sandbox },
    dst_endpoint: dst,
  };
  if (method === undefined) {
    return compact({ ...base(record, 4001, 4, allowed ? 1 : 5, allowed ? 'Open' : 'Refuse', ['security_control']), ...security });
  }
  const target = asString(p.path) ?? '';
  const queryAt = target.indexOf('?');
  const url = compact({
    hostname: dst.hostname,
    port: dst.port,
    path: queryAt < 0 ? target || undefined : target.slice(0, queryAt),
    query_string: queryAt < 0 ? undefined : target.slice(queryAt + 1),
  });
  const activity = HTTP_ACTIVITY[method];
  return compact({
    ...base(record, 4002, 4, activity ?? 99, activity === undefined ? 'Other' : capitalise(method.toLowerCase()), ['security_control']),
    ...security,
    http_request: { http_method: method, url },
  });
}

function entityManagement(record: AuditRecord): Json {
  const p = asObject(record.payload);
  const [activityId, activityName] = ENTITY_ACTIVITY[record.kind] ?? [99, capitalise(record.kind.split('.').slice(1).join(' '))];
  const isPolicy = record.kind.startsWith('policy.');
  const rev = asNumber(p.rev);
  return compact({
    ...base(record, 3004, 3, activityId, activityName),
    status_id: 1,
    status: 'Success',
    actor: record.actor === null ? undefined : { user: { name: record.actor } },
    entity: compact({
      type: isPolicy ? 'policy' : 'sandbox',
      name: record.sandbox ?? undefined,
      version: isPolicy && rev !== undefined ? String(rev) : undefined,
    }),
    comment: asString(p.reason),
  });
}

/** One OCSF-shaped event for one audit record (mapping above). */
export function toOcsf(record: AuditRecord): Json {
  let event: Json;
  if (record.kind === 'egress.verdict') event = egressVerdict(record);
  else if (record.kind.startsWith('sandbox.') || record.kind.startsWith('policy.')) event = entityManagement(record);
  else event = base(record, 0, 0, 99, 'Other');
  return { ...event, unmapped: unmapped(record) };
}
