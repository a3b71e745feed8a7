import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/http';
import { meterEvent, sendAll, type MeterEvent } from './support/meter-events';
import { createMeter, getMeter, graphqlAt, meterSlugs, tryCreateMeter, tryUsage, usageOf, waitForBackfill, type GraphQLAnswer, type MeterInput, type UsageArgs } from './support/meters';
import { collectorUrl, gatewayUrl } from './support/ports';
import { rowCount } from './support/stored-rows';
import { createTenant, type Tenant } from './support/tenants';

/**
 * Bad and hostile input to `usage` and `createMeter` (README "Meters", "Errors"; docs/ARCHITECTURE.md
 * "Tenancy": values reach SQL only as escaped literals, identifiers only from allow-lists). Each
 * bad argument gets a 4xx GraphQL error whose `extensions` name the code and the field; each
 * injection payload, at every string argument, gets such an error or a correct answer, and
 * nothing is half-created. Afterwards ClickHouse still has its tables and the events.
 */

const TYPE = 'hostile.usage';
const PAYLOADS = [
  "'; DROP TABLE events_raw; --",
  "\\' OR 1=1 --",
  '$["a\'); DROP"]',
  '1) OR (1=1',
  '"; DROP DATABASE polaris; --',
  "Robert'); DELETE FROM meters; --",
  'events_raw FINAL WHERE 1=1 --',
  '\u00a0\u202e\ud83d\ude00',
];
/** A NUL character: ClickHouse-bound arguments take it; PostgreSQL-bound ones do not yet (see the last test). */
const NUL = '\u0000';
/** Two payloads are also real data: subjects and a dimension value that filters must match exactly. */
const EVIL_SUBJECT = "\\' OR 1=1 --";
const EVIL_MODEL = "'; DROP TABLE events_raw; --";
const EVIL_KEY = "a'); DROP";
const METER: MeterInput = { slug: 'hostile_tokens', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] };
const RANGE = { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' };
const ROLLUP_TABLES = ['events_raw', 'meter_usage_per_minute_v1', 'meter_usage_per_hour_v1', 'meter_usage_per_day_v1', 'meter_values_backfill_v1'];

const at = (subject: string, model: string, tokens: number, hour: number): MeterEvent =>
  meterEvent({ type: TYPE, subject, timeMs: Date.parse('2026-11-01T00:00:00Z') + hour * 3_600_000, dataJson: JSON.stringify({ tokens, model, [EVIL_KEY]: tokens * 2 }) });
const EVENTS = [at('cust-1', 'gpt', 1, 1), at('cust-1', EVIL_MODEL, 10, 2), at(EVIL_SUBJECT, 'gpt', 100, 3), at(EVIL_SUBJECT, EVIL_MODEL, 1000, 4), at('cust-2', 'claude', 10000, 30)];

/** A refusal: 4xx, a code that is not `internal`, and (when given) the field named. */
function expectRefused<T>(answer: GraphQLAnswer<T>, what: string, code?: string | RegExp, field?: string | RegExp): void {
  expect(answer.data ?? null, `${what}: no data`).toBeNull();
  const error = answer.errors?.[0];
  expect(error, `${what}: an error`).toBeDefined();
  expect(answer.status, `${what}: ${JSON.stringify(answer.errors)}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, `${what}: ${JSON.stringify(answer.errors)}`).toBeLessThan(500);
  const exactly = (got: string | undefined, want: string | RegExp, label: string) => (typeof want === 'string' ? expect(got, label).toBe(want) : expect(got, label).toMatch(want));
  expect(error?.extensions?.code, `${what}: class`).toMatch(/^(BAD_USER_INPUT|NOT_FOUND)$/);
  if (code) exactly(error?.extensions?.reason, code, `${what}: reason`);
  if (field) exactly(error?.extensions?.field, field, `${what}: field`);
}

describe('meters: bad and hostile input', () => {
  let tenant: Tenant;
  const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123', database: 'polaris' });

  beforeAll(async () => {
    tenant = await createTenant(['events:write', 'usage:read', 'meters:write']);
    await sendAll(collectorUrl, tenant.apiKey, EVENTS);
    await eventually(async () => ((await rowCount(tenant.orgId)) === EVENTS.length ? true : undefined), 'the events to be stored');
    await createMeter(gatewayUrl, tenant.apiKey, METER);
    await waitForBackfill(gatewayUrl, tenant.apiKey, METER.slug);
  });
  afterAll(() => ch.close());

  const usage = (args: Omit<UsageArgs, 'metric'> & { metric?: string }) => tryUsage(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...RANGE, ...args });

  describe('bad input: a 4xx naming the code and the field', () => {
    it('an unknown meter', async () => {
      const answer = await usage({ metric: 'no_such_meter' });
      expectRefused(answer, 'usage of an unknown meter', 'meter_not_found', 'metric');
      expect(answer.status).toBe(404);
      expect(answer.errors?.[0]?.message).toMatch(/no_such_meter/);
      const meter = await graphqlAt(gatewayUrl, tenant.apiKey, '{ meter(slug: "no_such_meter") { id } }');
      expectRefused(meter, 'meter of an unknown slug', 'meter_not_found', 'slug');
    });

    it('a bad path, an unknown aggregation', async () => {
      expectRefused(await tryCreateMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'bad_path', valuePath: 'tokens' }), 'a path without $', 'invalid_path', 'input.valuePath');
      expectRefused(await tryCreateMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'bad_path', valuePath: '$..tokens' }), 'a recursive path', 'invalid_path', 'input.valuePath');
      const median = await tryCreateMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'bad_aggregation', aggregation: 'MEDIAN' as MeterInput['aggregation'] });
      expectRefused(median, 'an unknown aggregation');
      expect(median.errors?.[0]?.message).toMatch(/aggregation/);
      expect(median.errors?.[0]?.message).toMatch(/MEDIAN/);
      expect(await meterSlugs(gatewayUrl, tenant.apiKey)).not.toContain('bad_path');
    });

    it('a range too large for the window, an unknown time zone, an unaligned from', async () => {
      expectRefused(await usage({ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', windowSize: 'MINUTE' }), 'a year of minutes', 'too_many_windows', 'windowSize');
      expectRefused(await usage({ windowTimeZone: 'Mars/Olympus_Mons' }), 'an unknown time zone', 'unknown_time_zone', 'windowTimeZone');
      expectRefused(await usage({ windowTimeZone: 'Mars/Olympus_Mons', from: undefined, to: undefined }), 'an unknown time zone, default period', 'unknown_time_zone', 'windowTimeZone');
      expectRefused(await usage({ from: '2026-11-01T00:00:30Z' }), 'from off the minute', 'unaligned_range', 'from');
      expectRefused(await usage({ from: '2026-11-03T00:00:00Z', to: '2026-11-01T00:00:00Z' }), 'to before from', 'invalid_range', 'to');
      expectRefused(await usage({ groupBy: ['colour'] }), 'an unknown dimension', 'unknown_dimension', 'groupBy[0]');
    });
  });

  describe('injection payloads at every string argument', () => {
    it('usage: metric, windowTimeZone, groupBy, filters refused; subjects and filter values answered exactly', async () => {
      for (const p of [...PAYLOADS, NUL]) {
        if (p !== NUL) expectRefused(await usage({ metric: p }), `metric ${JSON.stringify(p)}`, 'meter_not_found', 'metric');
        expectRefused(await usage({ windowTimeZone: p }), `windowTimeZone ${JSON.stringify(p)}`, 'unknown_time_zone', 'windowTimeZone');
        expectRefused(await usage({ groupBy: [p] }), `groupBy ${JSON.stringify(p)}`, 'unknown_dimension', 'groupBy[0]');
        expectRefused(await usage({ filters: [{ dimension: p, in: ['gpt'] }] }), `filter dimension ${JSON.stringify(p)}`, 'unknown_dimension', 'filters[0].dimension');
        // As values they are just strings to compare with: no such subject or model, nothing counted.
        const bySubject = await usage({ subjects: [p] });
        const byModel = await usage({ filters: [{ dimension: 'model', in: [p] }] });
        const expectedSubject = EVENTS.filter((e) => e.subject === p).reduce((s, e) => s + (JSON.parse(e.dataJson) as { tokens: number }).tokens, 0);
        const expectedModel = EVENTS.filter((e) => (JSON.parse(e.dataJson) as { model: string }).model === p).reduce((s, e) => s + (JSON.parse(e.dataJson) as { tokens: number }).tokens, 0);
        expect(bySubject.errors, `subjects ${JSON.stringify(p)}`).toBeUndefined();
        expect(bySubject.data?.usage.total, `subjects ${JSON.stringify(p)}`).toBe(String(expectedSubject));
        expect(byModel.errors, `filter value ${JSON.stringify(p)}`).toBeUndefined();
        expect(byModel.data?.usage.total, `filter value ${JSON.stringify(p)}`).toBe(String(expectedModel));
      }
      // The payloads that are real data match exactly their events, and nothing else.
      expect((await usageOf(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...RANGE, subjects: [EVIL_SUBJECT] })).total).toBe('1100');
      expect((await usageOf(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...RANGE, filters: [{ dimension: 'model', in: [EVIL_MODEL] }] })).total).toBe('1010');
      const grouped = await usageOf(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...RANGE, groupBy: ['subject', 'model'], subjects: [EVIL_SUBJECT, 'cust-1'] });
      expect(grouped.rows.map((r) => [r.subject, r.dimensions.model, r.value]).sort()).toEqual(
        [
          ['cust-1', 'gpt', '1'],
          ['cust-1', EVIL_MODEL, '10'],
          [EVIL_SUBJECT, 'gpt', '100'],
          [EVIL_SUBJECT, EVIL_MODEL, '1000'],
        ].sort(),
      );
    });

    it('createMeter: slug, event type, dimension names refused; name, description and bracket paths kept exactly; nothing half-created', async () => {
      let slugs = await meterSlugs(gatewayUrl, tenant.apiKey);
      let n = 0;
      for (const p of PAYLOADS) {
        const refusedInputs: Array<[string, MeterInput, string, string]> = [
          ['slug', { ...METER, slug: p }, 'invalid_slug', 'input.slug'],
          ['eventType', { ...METER, slug: `evil_${n}`, eventType: p }, 'invalid_event_type', 'input.eventType'],
          ['dimension name', { ...METER, slug: `evil_${n}`, dimensions: [{ name: p, path: '$.model' }] }, 'invalid_dimension_name', 'input.dimensions[0].name'],
        ];
        for (const [what, input, code, field] of refusedInputs) {
          expectRefused(await tryCreateMeter(gatewayUrl, tenant.apiKey, input), `createMeter ${what} ${JSON.stringify(p)}`, code, field);
          expect(await meterSlugs(gatewayUrl, tenant.apiKey), `nothing created by ${what} ${JSON.stringify(p)}`).toEqual(slugs);
        }
        // Free text and paths: either refused, with nothing created, or created whole and read back unchanged.
        const maybeInputs: Array<[string, MeterInput, string]> = [
          ['name', { ...METER, slug: `evil_name_${n}`, name: p }, 'input.name'],
          ['description', { ...METER, slug: `evil_desc_${n}`, description: p }, 'input.description'],
          ['valuePath', { ...METER, slug: `evil_value_${n}`, valuePath: p }, 'input.valuePath'],
          ['uniquePath', { ...METER, slug: `evil_unique_${n}`, aggregation: 'UNIQUE_COUNT', valuePath: undefined, uniquePath: p }, 'input.uniquePath'],
          ['dimension path', { ...METER, slug: `evil_dim_${n}`, dimensions: [{ name: 'model', path: p }] }, 'input.dimensions[0].path'],
        ];
        for (const [what, input, field] of maybeInputs) {
          const answer = await tryCreateMeter(gatewayUrl, tenant.apiKey, input);
          const label = `createMeter ${what} ${JSON.stringify(p)}`;
          if (answer.errors) {
            expectRefused(answer, label, /^invalid_/, field);
            expect(await meterSlugs(gatewayUrl, tenant.apiKey), `nothing created by ${label}`).toEqual(slugs);
            continue;
          }
          const created = await getMeter(gatewayUrl, tenant.apiKey, input.slug);
          // Names are kept trimmed (README: name and description are free text).
          expect(created, label).toMatchObject({ slug: input.slug, name: input.name.trim(), eventType: TYPE, aggregation: input.aggregation, dimensions: input.dimensions });
          if (input.valuePath) expect(created.valuePath, label).toBe(input.valuePath);
          if (input.uniquePath) expect(created.uniquePath, label).toBe(input.uniquePath);
          slugs = [...slugs, input.slug].sort();
          expect(await meterSlugs(gatewayUrl, tenant.apiKey), `only ${input.slug} created by ${label}`).toEqual(slugs);
        }
        n++;
      }
    });

    it('a meter whose value path is the bracket key `$["a\'); DROP"]` reads that key, exactly', async () => {
      await createMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'bracket_key', valuePath: `$["${EVIL_KEY}"]` });
      await waitForBackfill(gatewayUrl, tenant.apiKey, 'bracket_key');
      const answer = await usageOf(gatewayUrl, tenant.apiKey, { metric: 'bracket_key', ...RANGE, groupBy: ['model'], filters: [{ dimension: 'model', in: [EVIL_MODEL] }] });
      expect(answer.total).toBe('2020');
      expect(answer.rows.map((r) => [r.dimensions.model, r.value])).toEqual([[EVIL_MODEL, '2020']]);
    });
  });

  // Was a 500: PostgreSQL refuses a NUL in text (22021). The repository now refuses it by field,
  // and a slug that could never exist is not found without asking the database.
  it('a NUL character in a slug, a name or a description: a 4xx naming the field, never a 500', async () => {
    const slugs = await meterSlugs(gatewayUrl, tenant.apiKey);
    expectRefused(await usage({ metric: NUL }), 'usage of metric NUL', 'meter_not_found', 'metric');
    expectRefused(await graphqlAt(gatewayUrl, tenant.apiKey, 'query($s: String!) { meter(slug: $s) { id } }', { s: NUL }), 'meter(slug: NUL)', 'meter_not_found', 'slug');
    expectRefused(await tryCreateMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'nul_name', name: `a${NUL}b` }), 'name with NUL', /^invalid_/, 'input.name');
    expectRefused(await tryCreateMeter(gatewayUrl, tenant.apiKey, { ...METER, slug: 'nul_desc', description: `a${NUL}b` }), 'description with NUL', /^invalid_/, 'input.description');
    expect(await meterSlugs(gatewayUrl, tenant.apiKey)).toEqual(slugs);
  });

  it('ClickHouse still has its tables and every event afterwards', async () => {
    const rs = await ch.query({ query: 'SHOW TABLES', format: 'JSONEachRow' });
    const tables = (await rs.json<{ name: string }>()).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(ROLLUP_TABLES));
    expect(await rowCount(tenant.orgId)).toBe(EVENTS.length);
    expect((await usageOf(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...RANGE })).total).toBe('11111');
  });
});
