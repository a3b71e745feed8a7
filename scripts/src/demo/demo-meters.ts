import type { GraphQLRequest } from './graphql-client';

/** A meter of the demo, as GraphQL `createMeter` takes it. */
export interface DemoMeter {
  slug: string;
  name: string;
  eventType: string;
  aggregation: 'SUM' | 'COUNT' | 'UNIQUE_COUNT' | 'MIN' | 'MAX' | 'AVG' | 'LATEST';
  valuePath?: string;
  uniquePath?: string;
  dimensions?: Array<{ name: string; path: string }>;
  /** Also shown grouped by this (a dimension, or `subject`). */
  showBy?: string;
}

/** What the demo measures of its traffic (sample-events.ts): one meter per kind of question. */
export const DEMO_METERS: readonly DemoMeter[] = [
  { slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' },
  { slug: 'tokens', name: 'LLM tokens', eventType: 'llm.tokens', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }], showBy: 'model' },
  { slug: 'active_users', name: 'Active users', eventType: 'api.request', aggregation: 'UNIQUE_COUNT', uniquePath: '$.user.id' },
  { slug: 'peak_latency_ms', name: 'Peak latency (ms)', eventType: 'api.request', aggregation: 'MAX', valuePath: '$.latency_ms' },
  { slug: 'mean_latency_ms', name: 'Mean latency (ms)', eventType: 'api.request', aggregation: 'AVG', valuePath: '$.latency_ms' },
  { slug: 'seats', name: 'Seats in use', eventType: 'seats.snapshot', aggregation: 'LATEST', valuePath: '$.seats', showBy: 'subject' },
];

/** "SUM of $.tokens of llm.tokens, by model" */
export function describeMeter(m: DemoMeter): string {
  const what = m.valuePath ?? m.uniquePath;
  const by = m.dimensions?.length ? `, by ${m.dimensions.map((d) => d.name).join(', ')}` : '';
  return `${m.aggregation} of ${what ? `${what} of ` : ''}${m.eventType}${by}`;
}

interface MeterState {
  slug: string;
  status: string;
  latestBackfill: { state: string; error: string | null } | null;
}

const METER_STATE = 'slug status latestBackfill { state error }';

/**
 * Creates the demo meters the organization does not have yet (earlier demo runs made the
 * others) and returns the slugs it created. Meters are created before the sample events are
 * sent, so those count live; a new meter's backfill counts what earlier runs stored.
 */
export async function ensureDemoMeters(request: GraphQLRequest): Promise<string[]> {
  const { meters } = await request<{ meters: { nodes: MeterState[] } }>(`{ meters(first: 200, includeArchived: true) { nodes { ${METER_STATE} } } }`);
  const existing = new Map(meters.nodes.map((m) => [m.slug, m]));
  const created: string[] = [];
  for (const meter of DEMO_METERS) {
    const found = existing.get(meter.slug);
    if (found) {
      if (found.status !== 'ACTIVE') console.warn(`meter ${meter.slug} is ${found.status.toLowerCase()}: it counts no new events`);
      continue;
    }
    const { slug, name, eventType, aggregation, valuePath, uniquePath, dimensions } = meter;
    const input = { slug, name, eventType, aggregation, valuePath, uniquePath, dimensions };
    await request(`mutation($input: CreateMeterInput!) { createMeter(input: $input) { slug } }`, { input });
    created.push(meter.slug);
  }
  return created;
}

/**
 * Waits until the backfill of each new meter has completed. A backfill starts once every sink
 * has synced the catalog that holds the meter, so the events sent afterwards count live, once.
 */
export async function waitForBackfills(request: GraphQLRequest, slugs: readonly string[], deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (const slug of slugs) {
    for (;;) {
      const { meter } = await request<{ meter: MeterState }>(`query($slug: String!) { meter(slug: $slug) { ${METER_STATE} } }`, { slug });
      const run = meter.latestBackfill;
      if (run?.state === 'completed') break;
      if (run?.state === 'failed') throw new Error(`the backfill of meter ${slug} failed: ${run.error ?? 'no reason given'}`);
      if (Date.now() > deadline) throw new Error(`the backfill of meter ${slug} is still ${run?.state ?? 'not started'} after ${deadlineMs / 1000} s; see the sink-worker's log`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
