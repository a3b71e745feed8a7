import DataLoader from 'dataloader';
import { WindowSize, type QueryMeterRequest, type QueryMeterResponse } from '@polaris/proto';
import { addQuantity, canonicalDecimal, compareDecimal, isDecimalText } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import type { MeteredQuantity } from './rate-invoice';

// Usage for rating comes from the sink-worker's Usage.QueryMeter only (the rating-worker never
// reads ClickHouse): one meter, one customer's subjects, one period. Rating thousands of
// subscriptions at a period boundary asks the same (org, meter, period) once per customer, so
// concurrent reads are coalesced into one query grouped by subject, up to 100 subjects each,
// and each customer's number is put back together from its subjects' values. That holds for
// SUM, COUNT, MIN and MAX; UNIQUE_COUNT, AVG and LATEST are not sums of per-subject parts, so
// for those meters only a customer of one subject takes its value from the grouped answer (its
// subject's value is the customer's), and a customer of several is read alone, its subjects as
// the filter.

/** Usage.QueryMeter, acting for the request's organization. */
export type QueryMeter = (request: QueryMeterRequest) => Promise<QueryMeterResponse>;

export interface UsageRequest {
  organizationId: string;
  meterSlug: string;
  /** The customer's subjects; none means no usage (nothing is asked). */
  subjects: readonly string[];
  /** [from, to), whole minutes. */
  from: Date;
  to: Date;
}

/** Usage.QueryMeter's limit on subjects per request (sink-worker/src/usage/meter-query.ts). */
export const MAX_SUBJECTS_PER_QUERY = 100;
const DECOMPOSABLE = new Set(['SUM', 'COUNT', 'MIN', 'MAX']);
const AGGREGATION_TTL_MS = 5 * 60_000;
const MAX_REMEMBERED_METERS = 10_000;

export function usageIncomplete(response: QueryMeterResponse): PolarisError {
  return new PolarisError(
    'unavailable',
    'usage_incomplete',
    `meter ${response.meterSlug} is still backfilling (version ${response.meterVersionId}): its usage may still grow, so it is not billed yet`,
    'meter_slug',
  );
}

const tooManySubjects = (request: UsageRequest, aggregation: string) =>
  new PolarisError(
    'failed_precondition',
    'too_many_subjects',
    `the customer has ${request.subjects.length} subjects, and meter ${request.meterSlug} aggregates with ${aggregation}, which cannot be combined across ` +
      `subjects: one usage query reads at most ${MAX_SUBJECTS_PER_QUERY}`,
    'subjects',
  );

/** A value as the Usage API answers it, checked and made canonical. */
function valueOf(value: string | undefined, slug: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isDecimalText(value)) throw new Error(`usage of meter ${slug} answered ${JSON.stringify(value)}, which is not decimal text`);
  return canonicalDecimal(value);
}

/** One customer's number from its subjects' values; a meter with no valid value for them reads 0. */
export function combine(aggregation: string, values: ReadonlyArray<string | undefined>): string {
  const present = values.filter((v): v is string => v !== undefined);
  if (present.length === 0) return '0';
  switch (aggregation) {
    case 'SUM':
    case 'COUNT':
      return present.reduce((sum, v) => addQuantity(sum, v), '0');
    case 'MIN':
      return present.reduce((min, v) => (compareDecimal(v, min) < 0 ? v : min));
    case 'MAX':
      return present.reduce((max, v) => (compareDecimal(v, max) > 0 ? v : max));
    default:
      throw new Error(`${aggregation} usage cannot be combined across subjects`);
  }
}

const groupKey = (r: UsageRequest) => `${r.organizationId}\u0000${r.meterSlug}\u0000${r.from.getTime()}\u0000${r.to.getTime()}`;
const meterKey = (r: UsageRequest) => `${r.organizationId}\u0000${r.meterSlug}`;

/**
 * How long a read waits for others to join its query. Jobs reach their reads at scattered times:
 * at 5 ms a batch held 2 or 3 customers and rating cost one query per invoice; at 20 ms it holds
 * about 30 (bench:rating).
 */
const BATCH_WINDOW_MS = 20;

export interface UsageReaderOptions {
  /** How long reads wait to be coalesced with others (default BATCH_WINDOW_MS): one query serves them all. */
  batchWindowMs?: number;
}

/**
 * Reads one customer's usage of one meter over one period. A read never becomes 0 because it
 * failed: any Usage error propagates, and an answer from a meter still backfilling
 * (`complete = false`) is refused with the retryable `usage_incomplete`.
 */
export class UsageReader {
  private readonly loader: DataLoader<UsageRequest, MeteredQuantity, UsageRequest>;
  /** The aggregation each meter answered with lately: decides whether its reads are batched. */
  private readonly aggregations = new Map<string, { aggregation: string; until: number }>();

  constructor(
    private readonly queryMeter: QueryMeter,
    opts: UsageReaderOptions = {},
  ) {
    const windowMs = opts.batchWindowMs ?? BATCH_WINDOW_MS;
    this.loader = new DataLoader((requests) => this.readBatch(requests), {
      // Usage keeps growing: every read asks again. (Repeats within one batch are merged below.)
      cache: false,
      batchScheduleFn: (run) => setTimeout(run, windowMs),
    });
  }

  async read(request: UsageRequest): Promise<MeteredQuantity> {
    if (request.subjects.length === 0 || request.to.getTime() <= request.from.getTime()) return { quantity: '0' };
    const known = this.aggregations.get(meterKey(request));
    if (known && known.until > Date.now() && !DECOMPOSABLE.has(known.aggregation) && new Set(request.subjects).size > 1) return this.readAlone(request);
    // Unknown, decomposable, or one subject: batched. A batch that finds the meter is not
    // decomposable reads each of its customers of several subjects alone instead, and remembers it.
    return this.loader.load(request);
  }

  private remember(request: UsageRequest, aggregation: string): void {
    if (this.aggregations.size >= MAX_REMEMBERED_METERS) this.aggregations.clear();
    this.aggregations.set(meterKey(request), { aggregation, until: Date.now() + AGGREGATION_TTL_MS });
  }

  private async ask(request: UsageRequest, subjects: readonly string[], bySubject: boolean): Promise<QueryMeterResponse> {
    const response = await this.queryMeter({
      organizationId: request.organizationId,
      meterSlug: request.meterSlug,
      from: request.from,
      to: request.to,
      windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED,
      windowTimeZone: '',
      groupBy: bySubject ? ['subject'] : [],
      subjects: [...subjects],
      dimensionFilters: [],
    });
    this.remember(request, response.aggregation);
    if (!response.complete) throw usageIncomplete(response);
    return response;
  }

  /** One query for one customer: its subjects as the filter, no grouping, the meter's own answer. */
  private async readAlone(request: UsageRequest): Promise<MeteredQuantity> {
    if (request.subjects.length > MAX_SUBJECTS_PER_QUERY) {
      throw tooManySubjects(request, this.aggregations.get(meterKey(request))?.aggregation ?? 'its aggregation');
    }
    const response = await this.ask(request, request.subjects, false);
    const value = valueOf(response.rows[0]?.value, request.meterSlug);
    return { quantity: value ?? '0', meterVersionId: response.meterVersionId };
  }

  private async readBatch(requests: readonly UsageRequest[]): Promise<Array<MeteredQuantity | Error>> {
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const key = groupKey(r);
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const answers: Array<MeteredQuantity | Error> = new Array<MeteredQuantity | Error>(requests.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const members = indexes.map((i) => requests[i] as UsageRequest);
        try {
          const results = await this.readGroup(members);
          indexes.forEach((i, n) => (answers[i] = results[n] as MeteredQuantity | Error));
        } catch (err) {
          for (const i of indexes) answers[i] = err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
    return answers;
  }

  /** Requests of one (org, meter, period): one grouped query per 100 distinct subjects. */
  private async readGroup(members: readonly UsageRequest[]): Promise<Array<MeteredQuantity | Error>> {
    const first = members[0] as UsageRequest;
    const subjects = [...new Set(members.flatMap((m) => m.subjects))].sort();
    const chunks: string[][] = [];
    for (let i = 0; i < subjects.length; i += MAX_SUBJECTS_PER_QUERY) chunks.push(subjects.slice(i, i + MAX_SUBJECTS_PER_QUERY));
    const responses = await Promise.all(chunks.map((chunk) => this.ask(first, chunk, true)));
    const aggregation = responses[0]?.aggregation ?? '';
    const version = responses[0]?.meterVersionId ?? '';
    if (responses.some((r) => r.aggregation !== aggregation || r.meterVersionId !== version)) {
      throw new PolarisError('unavailable', 'meter_changed', `meter ${first.meterSlug} changed version while its usage was read; read again`, 'meter_slug');
    }
    const bySubject = new Map<string, string | undefined>();
    for (const response of responses) {
      for (const row of response.rows) bySubject.set(row.subject, valueOf(row.value, first.meterSlug));
    }
    if (!DECOMPOSABLE.has(aggregation)) {
      // A customer of one subject has that subject's value; the others are read one by one (each failure its own).
      return Promise.all(
        members.map((m) => {
          const own = [...new Set(m.subjects)];
          if (own.length === 1) return { quantity: bySubject.get(own[0] ?? '') ?? '0', meterVersionId: version };
          return this.readAlone(m).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        }),
      );
    }
    return members.map((m) => ({ quantity: combine(aggregation, [...new Set(m.subjects)].map((s) => bySubject.get(s))), meterVersionId: version }));
  }
}
