import { meters } from '@polaris/postgres';
import type { MeterDefinition } from '@polaris/shared/meters';
import pg from 'pg';
import { MeterCatalogSnapshot } from '../../../sink-worker/src/meters/catalog-snapshot';
import type { DevConfig } from '../../src/config';

/** A meter of the bench's traffic: slug and definition, as `polaris meter create` would take them. */
export interface BenchMeter {
  slug: string;
  definition: MeterDefinition;
}

// What products measure of the demo's traffic (scripts/src/demo/sample-events.ts): llm.tokens
// carries {model, tokens}, api.request {route, status}. Every aggregation and 0-2 dimensions.
const TEMPLATES: Record<string, Array<Omit<MeterDefinition, 'eventType' | 'dimensions'> & { dimensions?: MeterDefinition['dimensions'] }>> = {
  'llm.tokens': [
    { aggregation: 'SUM', valuePath: '$.tokens' },
    { aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] },
    { aggregation: 'COUNT' },
    { aggregation: 'COUNT', dimensions: [{ name: 'model', path: '$.model' }] },
    { aggregation: 'MIN', valuePath: '$.tokens' },
    { aggregation: 'MAX', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] },
    { aggregation: 'AVG', valuePath: '$.tokens' },
    { aggregation: 'LATEST', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] },
    { aggregation: 'UNIQUE_COUNT', uniquePath: '$.model' },
    { aggregation: 'AVG', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] },
  ],
  'api.request': [
    { aggregation: 'COUNT' },
    { aggregation: 'COUNT', dimensions: [{ name: 'route', path: '$.route' }] },
    { aggregation: 'COUNT', dimensions: [{ name: 'route', path: '$.route' }, { name: 'status', path: '$.status' }] },
    { aggregation: 'UNIQUE_COUNT', uniquePath: '$.route' },
    { aggregation: 'MIN', valuePath: '$.status' },
    { aggregation: 'MAX', valuePath: '$.status', dimensions: [{ name: 'route', path: '$.route' }] },
    { aggregation: 'AVG', valuePath: '$.status' },
    { aggregation: 'SUM', valuePath: '$.status', dimensions: [{ name: 'route', path: '$.route' }] },
    { aggregation: 'LATEST', valuePath: '$.status' },
    { aggregation: 'UNIQUE_COUNT', uniquePath: '$.status', dimensions: [{ name: 'route', path: '$.route' }] },
  ],
};

/** The event types of the bench's traffic. */
export const BENCH_EVENT_TYPES = Object.keys(TEMPLATES);

/** `perType` meters for each event type of the bench's traffic (templates repeat past ten). */
export function benchMeters(perType: number): BenchMeter[] {
  return Object.entries(TEMPLATES).flatMap(([eventType, templates]) =>
    Array.from({ length: perType }, (_, i) => {
      const t = templates[i % templates.length] ?? { aggregation: 'COUNT' as const };
      return {
        slug: `${eventType.replace(/\W/g, '_')}_${t.aggregation.toLowerCase()}_${i}`,
        definition: { ...t, eventType, dimensions: t.dimensions ?? [] },
      };
    }),
  );
}

/**
 * Creates the meters in the organization through the same repository as `polaris meter create`:
 * each is live from the catalog revision its creation makes, which a sink started afterwards
 * syncs before it is ready. Their backfill runs stay queued (the bench runs no backfill worker)
 * and go with the organization when it is deleted.
 */
export async function createBenchMeters(cfg: DevConfig, organizationId: string, list: readonly BenchMeter[]): Promise<void> {
  const db = new pg.Client({ connectionString: cfg.postgres.url });
  await db.connect();
  try {
    for (const m of list) await meters.create(db, { organizationId, slug: m.slug, definition: m.definition });
  } finally {
    await db.end();
  }
}

/**
 * A catalog the sink's stamper can use without a rating-worker: the same meters as versions
 * 1 … n of `organizationId`, at revision 1. For the in-process steps and the stamped baseline.
 */
export function benchMeterSnapshot(organizationId: string, list: readonly BenchMeter[]): MeterCatalogSnapshot {
  return new MeterCatalogSnapshot(
    '1',
    list.map((m, i) => ({ organizationId, meterSlug: m.slug, meterVersionId: String(i + 1), catalogRevision: '1', definition: m.definition })),
  );
}
