import pg from 'pg';
import { meters } from '@polaris/postgres';
import type { ApiKeyScope } from '@polaris/shared/auth';
import { eventually } from './http';
import { E2E_PORTS, gatewayUrl as sharedGatewayUrl } from './ports';
import { metric } from './private-services';
import { createTenant, type Tenant } from './tenants';

/**
 * Meters through the public GraphQL API (README "Meters", schema.graphql): create one, wait for
 * its backfill, read its usage. Every helper takes the gateway's URL, so a test can drive the
 * shared system or a private one.
 */

/** Every request has a deadline: a hang fails the test instead of stalling the suite. */
const REQUEST_DEADLINE_MS = 20_000;
/**
 * A backfill waits for every sink to sync the new catalog revision (a killed sink's lease holds it
 * back for the lease TTL plus grace: 20 s in e2e), then runs: generous, far below "never".
 */
export const BACKFILL_DEADLINE_MS = 90_000;

export interface GraphQLError {
  message: string;
  /** `code` is the class (BAD_USER_INPUT, NOT_FOUND, …), `reason` the specific code (meter_not_found). */
  extensions?: { code?: string; reason?: string; field?: string; http?: { status?: number } };
}

export interface GraphQLAnswer<T> {
  status: number;
  data?: T;
  errors?: GraphQLError[];
}

export async function graphqlAt<T>(gatewayUrl: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer<T>> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GraphQLAnswer<T>, 'status'>) };
}

/** The data of an answer that must have succeeded; its errors otherwise, in the exception. */
export function dataOf<T>(answer: GraphQLAnswer<T>, what: string): T {
  if (answer.errors?.length || !answer.data) throw new Error(`${what} failed (HTTP ${answer.status}): ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

export type Aggregation = 'SUM' | 'COUNT' | 'UNIQUE_COUNT' | 'MIN' | 'MAX' | 'AVG' | 'LATEST';

export interface MeterInput {
  slug: string;
  name: string;
  description?: string;
  eventType: string;
  aggregation: Aggregation;
  valuePath?: string;
  uniquePath?: string;
  dimensions?: Array<{ name: string; path: string }>;
  backfillFrom?: string;
}

export interface BackfillView {
  id: string;
  meterSlug: string;
  state: string;
  eventsDone: string;
  eventsTotal: string;
  error: string | null;
}

export interface MeterView {
  id: string;
  slug: string;
  name: string;
  status: string;
  eventType: string;
  aggregation: Aggregation;
  valuePath: string | null;
  uniquePath: string | null;
  dimensions: Array<{ name: string; path: string }>;
  version: number;
  pendingVersion: number | null;
  latestBackfill: BackfillView | null;
}

export const BACKFILL_FIELDS = 'id meterSlug state eventsDone eventsTotal error';
export const METER_FIELDS = `id slug name status eventType aggregation valuePath uniquePath dimensions { name path } version pendingVersion latestBackfill { ${BACKFILL_FIELDS} }`;

/** createMeter as a client sends it: the answer as it came, errors included. */
export function tryCreateMeter(gatewayUrl: string, apiKey: string, input: MeterInput): Promise<GraphQLAnswer<{ createMeter: MeterView }>> {
  return graphqlAt(gatewayUrl, apiKey, `mutation($input: CreateMeterInput!) { createMeter(input: $input) { ${METER_FIELDS} } }`, { input });
}

/** Creates a meter (the key needs meters:write); throws with the API's errors if refused. */
export async function createMeter(gatewayUrl: string, apiKey: string, input: MeterInput): Promise<MeterView> {
  return dataOf(await tryCreateMeter(gatewayUrl, apiKey, input), `createMeter ${input.slug}`).createMeter;
}

export async function getMeter(gatewayUrl: string, apiKey: string, slug: string): Promise<MeterView> {
  return dataOf(await graphqlAt<{ meter: MeterView }>(gatewayUrl, apiKey, `query($slug: String!) { meter(slug: $slug) { ${METER_FIELDS} } }`, { slug }), `meter ${slug}`).meter;
}

/** Slugs of the organization's meters, archived ones included (one page: tests create few). */
export async function meterSlugs(gatewayUrl: string, apiKey: string): Promise<string[]> {
  const data = dataOf(
    await graphqlAt<{ meters: { nodes: Array<{ slug: string }> } }>(gatewayUrl, apiKey, '{ meters(first: 200, includeArchived: true) { nodes { slug } } }'),
    'meters',
  );
  return data.meters.nodes.map((m) => m.slug).sort();
}

/**
 * Waits until the meter's newest version is the one answering and its latest backfill has
 * completed (a failed one fails the wait at once). Returns the meter as it then is.
 */
export async function waitForBackfill(gatewayUrl: string, apiKey: string, slug: string, deadlineMs = BACKFILL_DEADLINE_MS): Promise<MeterView> {
  return eventually(
    async () => {
      const meter = await getMeter(gatewayUrl, apiKey, slug);
      const run = meter.latestBackfill;
      if (run?.state === 'failed') throw new Error(`the backfill of ${slug} failed: ${run.error ?? '?'}`);
      return run?.state === 'completed' && meter.pendingVersion === null ? meter : undefined;
    },
    `the backfill of meter ${slug} to complete`,
    deadlineMs,
    250,
  );
}

export interface UsageRowView {
  windowStart: string;
  windowEnd: string;
  subject: string | null;
  dimensions: Record<string, string>;
  value: string | null;
  eventCount: string;
  invalidCount: string;
}

export interface UsageView {
  metric: string;
  aggregation: Aggregation;
  periodStart: string;
  periodEnd: string;
  total: string | null;
  invalidCount: string;
  complete: boolean;
  rows: UsageRowView[];
}

export interface UsageArgs {
  metric: string;
  from?: string;
  to?: string;
  windowSize?: 'NONE' | 'MINUTE' | 'HOUR' | 'DAY' | 'MONTH';
  windowTimeZone?: string;
  groupBy?: string[];
  subjects?: string[];
  filters?: Array<{ dimension: string; in: string[] }>;
}

const USAGE_QUERY = `query($metric: String!, $from: DateTime, $to: DateTime, $windowSize: WindowSize, $windowTimeZone: String, $groupBy: [String!], $subjects: [String!], $filters: [DimensionFilterInput!]) {
  usage(metric: $metric, from: $from, to: $to, windowSize: $windowSize, windowTimeZone: $windowTimeZone, groupBy: $groupBy, subjects: $subjects, filters: $filters) {
    metric aggregation periodStart periodEnd total invalidCount complete
    rows { windowStart windowEnd subject dimensions value eventCount invalidCount }
  }
}`;

/** `usage(metric: …)` with every field selected; unset arguments take the API's defaults. */
export function tryUsage(gatewayUrl: string, apiKey: string, args: UsageArgs): Promise<GraphQLAnswer<{ usage: UsageView }>> {
  const variables = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  return graphqlAt(gatewayUrl, apiKey, USAGE_QUERY, variables);
}

export async function usageOf(gatewayUrl: string, apiKey: string, args: UsageArgs): Promise<UsageView> {
  return dataOf(await tryUsage(gatewayUrl, apiKey, args), `usage of ${args.metric}`).usage;
}

/**
 * The ClickHouse id of the version a meter answers from (not in the public API): for tests that
 * read events_raw or the rollups beside the API, e.g. with meterUsage.queryRaw.
 */
export async function answeringVersionId(databaseUrl: string, organizationId: string, slug: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const meter = await meters.get(client, { organizationId, slug });
    return meter.currentVersion.id;
  } finally {
    await client.end();
  }
}

// ── Meters of the shared e2e system, created before their events ───────────────────────────────

/** The shared e2e system's PostgreSQL (the one `createTenant` writes to). */
const SHARED_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris';

/** A key that may send events, read usage and manage meters. */
export const METER_SCOPES: ApiKeyScope[] = ['events:write', 'usage:read', 'meters:write'];

/**
 * How long a sink may take to stamp with a new catalog revision: it syncs every second in e2e
 * (launcher localSpecs). Generous for a loaded machine, far below "never".
 */
export const CATALOG_SYNC_DEADLINE_MS = 20_000;

/** The catalog revision that made the version a meter answers from (R_V of docs/meters.md; not in the public API). */
export async function catalogRevisionOf(databaseUrl: string, organizationId: string, slug: string): Promise<bigint> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return BigInt((await meters.get(client, { organizationId, slug })).currentVersion.catalogRevision);
  } finally {
    await client.end();
  }
}

/**
 * Waits until the sink on `sinkOpsPort` stamps rows with catalog revision `revision` or a later
 * one (its sink_meter_catalog_revision gauge): from then on it extracts every meter that revision
 * holds, so events it stores next count live. Revisions are small: exact as doubles.
 */
export async function waitForSinkCatalog(sinkOpsPort: number, revision: bigint, deadlineMs = CATALOG_SYNC_DEADLINE_MS): Promise<void> {
  await eventually(
    async () => ((await metric(sinkOpsPort, 'sink_meter_catalog_revision')) >= Number(revision) ? true : undefined),
    `the sink (ops port ${sinkOpsPort}) to sync catalog revision ${revision}`,
    deadlineMs,
    100,
  );
}

export interface LiveMetersOptions {
  /** The gateway to create them through; the shared system's by default. */
  gatewayUrl?: string;
  /** The rating-worker's database; the shared system's by default. */
  databaseUrl?: string;
  /** The ops port of the sink that will store their events; the shared system's by default. */
  sinkOpsPort?: number;
}

/**
 * Creates meters through GraphQL `createMeter` (the tenant's key needs meters:write), then waits
 * until the sink stamps with a catalog that has them all. Events sent afterwards count live: with
 * no events stored before, there is no backfill to wait for (when events came first, use
 * waitForBackfill instead).
 */
export async function createLiveMeters(tenant: Tenant, inputs: readonly MeterInput[], opts: LiveMetersOptions = {}): Promise<MeterView[]> {
  const created: MeterView[] = [];
  let newest = 0n;
  for (const input of inputs) {
    created.push(await createMeter(opts.gatewayUrl ?? sharedGatewayUrl, tenant.apiKey, input));
    const revision = await catalogRevisionOf(opts.databaseUrl ?? SHARED_DATABASE_URL, tenant.orgId, input.slug);
    if (revision > newest) newest = revision;
  }
  await waitForSinkCatalog(opts.sinkOpsPort ?? E2E_PORTS.ops['sink-worker'], newest);
  return created;
}

/** A fresh organization of the shared system, its key able to manage meters, with these meters live before any event. */
export async function tenantWithMeters(inputs: readonly MeterInput[]): Promise<Tenant> {
  const tenant = await createTenant(METER_SCOPES);
  await createLiveMeters(tenant, inputs);
  return tenant;
}

/**
 * A usage range around `nowMs` on whole minutes, as usage needs them (unaligned_range otherwise):
 * from `beforeMs` earlier (rounded down) to `afterMs` later (rounded up), as ISO text.
 */
export function wholeMinutesAround(nowMs = Date.now(), beforeMs = 3_600_000, afterMs = 3_600_000): { from: string; to: string } {
  const MINUTE = 60_000;
  return {
    from: new Date(Math.floor((nowMs - beforeMs) / MINUTE) * MINUTE).toISOString(),
    to: new Date(Math.ceil((nowMs + afterMs) / MINUTE) * MINUTE).toISOString(),
  };
}
