import { WindowSize, type QueryMeterRequest } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import { METER_AGGREGATIONS, type MeterAggregation } from '@polaris/shared/meters';
import { DateTime } from 'luxon';
import { inArgumentTerms } from './argument-names';
import { toProtoWindowSize } from './enums';
import { guarded } from './errors';
import { selectsField } from './selected-fields';
import type { GatewayContext } from './context';
import type { Resolvers } from './generated/resolvers-types';

// SUM, COUNT and UNIQUE_COUNT of nothing are 0; MIN, MAX, AVG and LATEST of nothing are no value.
const ZERO_WHEN_EMPTY = new Set(['SUM', 'COUNT', 'UNIQUE_COUNT']);

/**
 * `usage(metric: …)`: one meter's usage, answered by the Usage service from the rollups. The
 * seeds' form `usage(metric: "api_calls") { metric total periodStart periodEnd }` asks for the
 * current calendar month, in windowTimeZone (UTC by default).
 */
export const usageResolvers = {
  Query: {
    usage: guarded(async (_parent, args, ctx, info) => {
      const { organizationId } = await ctx.principal('usage:read');
      const zone = args.windowTimeZone ?? 'UTC';
      const month = currentMonth(zone);
      const request: QueryMeterRequest = {
        organizationId,
        meterSlug: args.metric,
        from: args.from ?? month.from,
        to: args.to ?? month.to,
        windowSize: toProtoWindowSize(args.windowSize ?? 'NONE'),
        windowTimeZone: zone,
        groupBy: args.groupBy ?? [],
        subjects: args.subjects ?? [],
        dimensionFilters: (args.filters ?? []).map((f) => ({ name: f.dimension, values: f.in })),
      };
      // A dashboard's timeline asks `total` beside its windows: that second query starts now, side
      // by side with the first, instead of after it (its error, if any, is `total`'s alone).
      const whole = isWhole(request) || !selectsField(info, 'total') ? undefined : queryMeter(ctx, wholePeriod(request));
      whole?.catch(() => undefined);
      return { request, response: await queryMeter(ctx, request), ...(whole ? { whole } : {}) };
    }),
  },
  MeterUsage: {
    metric: ({ response }) => response.meterSlug,
    aggregation: ({ response }) => aggregationOf(response.aggregation),
    periodStart: ({ request }) => request.from as Date,
    periodEnd: ({ request }) => request.to as Date,
    rows: ({ response }) => response.rows,
    invalidCount: ({ response }) => response.invalidCount,
    complete: ({ response }) => response.complete,
    total: guarded(async ({ request, response, whole }, _args, ctx) => {
      // Already one row for the whole period: no second query.
      const answer = isWhole(request) ? response : await (whole ?? queryMeter(ctx, wholePeriod(request)));
      const value = answer.rows[0]?.value;
      if (value !== undefined) return value;
      return ZERO_WHEN_EMPTY.has(answer.aggregation) ? '0' : null;
    }),
  },
  MeterUsageRow: {
    windowStart: (row) => row.windowStart as Date,
    windowEnd: (row) => row.windowEnd as Date,
    subject: (row) => row.subject || null,
    dimensions: (row) => row.dimensions,
    value: (row) => row.value ?? null,
    eventCount: (row) => row.eventCount,
    invalidCount: (row) => row.invalidCount,
  },
} satisfies Resolvers;

/** One row for the whole period: no windows, no groups. */
const isWhole = (request: QueryMeterRequest) => request.windowSize === WindowSize.WINDOW_SIZE_UNSPECIFIED && request.groupBy.length === 0;
const wholePeriod = (request: QueryMeterRequest): QueryMeterRequest => ({ ...request, windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED, groupBy: [] });

async function queryMeter(ctx: GatewayContext, request: QueryMeterRequest) {
  const { usage } = ctx.backends;
  try {
    return await callUnary('usage', usage.queryMeter.bind(usage), request, ctx.deadlineMs, { actingFor: request.organizationId });
  } catch (err) {
    throw inArgumentTerms(err, usageArgument);
  }
}

// Proto field names → the `usage` arguments a GraphQL caller sent.
const ARGUMENT_OF_FIELD: Array<[RegExp, string]> = [
  [/^(meter_)?slug$/, 'metric'],
  [/^window_size$/, 'windowSize'],
  [/^window_time_zone$/, 'windowTimeZone'],
  [/^group_by(\[\d+\])$/, 'groupBy$1'],
  [/^dimension_filters(\[\d+\])\.name$/, 'filters$1.dimension'],
  [/^dimension_filters(\[\d+\])\.values$/, 'filters$1.in'],
];

function usageArgument(field: string): string {
  const rule = ARGUMENT_OF_FIELD.find(([pattern]) => pattern.test(field));
  return rule ? field.replace(rule[0], rule[1]) : field;
}

function aggregationOf(name: string): MeterAggregation {
  if (!(METER_AGGREGATIONS as readonly string[]).includes(name)) {
    throw new PolarisError('internal', 'unknown_aggregation', `the usage service answered an unknown aggregation ${name}`);
  }
  return name as MeterAggregation;
}

/** [start of this month, start of next month) in `zone`; an unknown zone is the caller's error. */
function currentMonth(zone: string): { from: Date; to: Date } {
  const now = DateTime.now().setZone(zone);
  if (!now.isValid) throw new PolarisError('invalid_argument', 'unknown_time_zone', `${JSON.stringify(zone.slice(0, 64))} is not an IANA time zone (e.g. Europe/Paris)`, 'windowTimeZone');
  const start = now.startOf('month');
  return { from: start.toJSDate(), to: start.plus({ months: 1 }).toJSDate() };
}
