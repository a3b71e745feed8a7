import type { MeterUsageReader } from '@polaris/clickhouse';
import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { type UnaryWrapper, type GrpcServiceBinding } from '@polaris/shared/grpc';
import { UsageService, type ListEventsRequest, type ListEventsResponse, type Meter, type QueryMeterRequest, type QueryMeterResponse } from '@polaris/proto';
import { listEvents, type ListEventsDeps } from './list-events';
import { toMeterUsageQuery, toQueryMeterResponse } from './meter-query';
import { sharedInFlight } from './shared-in-flight';

/** Meters.GetMeter of the rating-worker, acting for the request's organization. */
export type MeterLookup = (organizationId: string, slug: string) => Promise<Meter>;

/**
 * polaris.v1.Usage over ClickHouse: usage is answered per meter only, from the rollups its exact
 * definition fills (docs/meters.md). The namespace is always the caller's organization.
 */
export function usageService(meters: { reader: MeterUsageReader; lookup: MeterLookup }, unary: UnaryWrapper, events?: ListEventsDeps): GrpcServiceBinding {
  // A dashboard's windows and total name the same meter at once: one GetMeter for both.
  const lookup = sharedInFlight((organizationId: string, slug: string) => `${organizationId}\u0000${slug}`, meters.lookup);
  return {
    name: 'polaris.v1.Usage',
    definition: UsageService,
    access: {
      queryMeter: { callers: ['gateway', 'rating-worker'], organization: 'request' },
      listEvents: { callers: ['gateway'], organization: 'request' },
    },
    implementation: {
      queryMeter: unary<QueryMeterRequest, QueryMeterResponse>('polaris.v1.Usage/QueryMeter', async (req) => {
        requireOrganizationId(req.organizationId);
        if (!req.meterSlug) throw new PolarisError('invalid_argument', 'missing_meter_slug', 'meter_slug is required', 'meter_slug');
        // Scoped by the catalog itself: another org's slug is NOT_FOUND there.
        const meter = await lookup(req.organizationId, req.meterSlug);
        const query = toMeterUsageQuery(req, meter);
        return toQueryMeterResponse(meter, query, await meters.reader.query(query));
      }),
      listEvents: unary<ListEventsRequest, ListEventsResponse>('polaris.v1.Usage/ListEvents', async (req) => {
        requireOrganizationId(req.organizationId);
        // A server built without the listing (tests of QueryMeter alone) says so rather than answer nothing.
        if (!events) throw new PolarisError('unavailable', 'events_listing_unavailable', 'this Usage server does not list events');
        return listEvents(req, events);
      }),
    },
  };
}
