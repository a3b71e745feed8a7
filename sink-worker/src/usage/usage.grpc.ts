import type { MeterUsageReader, UsageQuery, UsageReader, UsageWindow } from '@polaris/clickhouse';
import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { type UnaryWrapper, type GrpcServiceBinding } from '@polaris/shared/grpc';
import {
  Aggregation,
  UsageService,
  WindowSize,
  type Meter,
  type QueryMeterRequest,
  type QueryMeterResponse,
  type UsageQueryRequest,
  type UsageQueryResponse,
} from '@polaris/proto';
import { toMeterUsageQuery, toQueryMeterResponse } from './meter-query';

/** Meters.GetMeter of the rating-worker, acting for the request's organization. */
export type MeterLookup = (organizationId: string, slug: string) => Promise<Meter>;

const MAX_SUBJECTS = 100;

/** Proto → domain for window sizes, the only place it happens (domain → SQL is in @polaris/clickhouse). */
const windows: Record<WindowSize, UsageWindow | undefined> = {
  [WindowSize.WINDOW_SIZE_UNSPECIFIED]: 'none',
  [WindowSize.WINDOW_SIZE_MINUTE]: 'minute',
  [WindowSize.WINDOW_SIZE_HOUR]: 'hour',
  [WindowSize.WINDOW_SIZE_DAY]: 'day',
  // Months follow a time zone: only QueryMeter has them.
  [WindowSize.WINDOW_SIZE_MONTH]: undefined,
  [WindowSize.UNRECOGNIZED]: undefined,
};

const bad = (field: string, code: string, message: string) => new PolarisError('invalid_argument', code, message, field);

export function toUsageQuery(req: UsageQueryRequest): UsageQuery {
  requireOrganizationId(req.organizationId);
  if (!req.eventType) throw bad('event_type', 'missing_event_type', 'event_type is required');
  if (!req.from) throw bad('from', 'missing_from', 'from is required');
  if (!req.to) throw bad('to', 'missing_to', 'to is required');
  const windowSize = windows[req.windowSize];
  if (!windowSize) throw bad('window_size', 'invalid_window_size', 'unknown window size');
  if (req.subjects.length > MAX_SUBJECTS) throw bad('subjects', 'too_many_subjects', `at most ${MAX_SUBJECTS} subjects`);
  if (req.aggregation === Aggregation.AGGREGATION_SUM && !req.valueProperty) {
    throw bad('value_property', 'missing_value_property', 'SUM needs value_property');
  }
  if (req.aggregation !== Aggregation.AGGREGATION_SUM && req.aggregation !== Aggregation.AGGREGATION_COUNT) {
    throw bad('aggregation', 'invalid_aggregation', 'unknown aggregation');
  }
  return {
    namespace: req.organizationId,
    eventType: req.eventType,
    fromMs: req.from.getTime(),
    toMs: req.to.getTime(),
    windowSize,
    ...(req.aggregation === Aggregation.AGGREGATION_SUM ? { valueProperty: req.valueProperty } : {}),
    subjects: req.subjects,
    groupBySubject: req.groupBySubject,
  };
}

/** polaris.v1.Usage over ClickHouse. The namespace is always the caller's organization. */
export function usageService(usage: UsageReader, meters: { reader: MeterUsageReader; lookup: MeterLookup }, unary: UnaryWrapper): GrpcServiceBinding {
  return {
    name: 'polaris.v1.Usage',
    definition: UsageService,
    access: {
      query: { callers: ['gateway'], organization: 'request' },
      queryMeter: { callers: ['gateway'], organization: 'request' },
    },
    implementation: {
      query: unary<UsageQueryRequest, UsageQueryResponse>('polaris.v1.Usage/Query', async (req) => {
        const result = await usage.query(toUsageQuery(req));
        return {
          rows: result.rows.map((r) => ({
            windowStart: new Date(r.windowStartMs),
            windowEnd: new Date(r.windowEndMs),
            subject: r.subject,
            value: r.value,
            eventCount: r.eventCount,
          })),
          invalidValueCount: result.invalidValueCount,
        };
      }),
      queryMeter: unary<QueryMeterRequest, QueryMeterResponse>('polaris.v1.Usage/QueryMeter', async (req) => {
        requireOrganizationId(req.organizationId);
        if (!req.meterSlug) throw bad('meter_slug', 'missing_meter_slug', 'meter_slug is required');
        // Scoped by the catalog itself: another org's slug is NOT_FOUND there.
        const meter = await meters.lookup(req.organizationId, req.meterSlug);
        const query = toMeterUsageQuery(req, meter);
        return toQueryMeterResponse(meter, query, await meters.reader.query(query));
      }),
    },
  };
}
