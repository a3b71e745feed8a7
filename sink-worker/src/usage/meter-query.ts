import type { MeterUsageQuery, MeterUsageResult, MeterWindowSize } from '@polaris/clickhouse';
import { WindowSize, type Meter, type QueryMeterRequest, type QueryMeterResponse } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { checkMeterDefinition, meterDefinitionFromProto } from '@polaris/shared/meters';

const MAX_SUBJECTS = 100;
const MAX_FILTER_VALUES = 100;

const WINDOWS: Record<WindowSize, MeterWindowSize | undefined> = {
  [WindowSize.WINDOW_SIZE_UNSPECIFIED]: 'none',
  [WindowSize.WINDOW_SIZE_MINUTE]: 'minute',
  [WindowSize.WINDOW_SIZE_HOUR]: 'hour',
  [WindowSize.WINDOW_SIZE_DAY]: 'day',
  [WindowSize.WINDOW_SIZE_MONTH]: 'month',
  [WindowSize.UNRECOGNIZED]: undefined,
};

const bad = (field: string, code: string, message: string) => new PolarisError('invalid_argument', code, message, field);

/**
 * A QueryMeter request and the meter it names (Meters.GetMeter, scoped to the same org) → the
 * rollup query: the answering version, its aggregation and completed backfill segments, and
 * dimension names turned into their positions. Everything the caller chose is checked here and
 * refused by field; the meter itself came from the catalog.
 */
export function toMeterUsageQuery(req: QueryMeterRequest, meter: Meter): MeterUsageQuery {
  if (!req.from) throw bad('from', 'missing_from', 'from is required');
  if (!req.to) throw bad('to', 'missing_to', 'to is required');
  const windowSize = WINDOWS[req.windowSize];
  if (!windowSize) throw bad('window_size', 'invalid_window_size', 'unknown window size');
  const version = meter.currentVersion;
  if (!version) throw new PolarisError('failed_precondition', 'meter_has_no_version', `meter ${meter.slug} has no version to answer from`);
  const definition = checkMeterDefinition(meterDefinitionFromProto(version.definition));
  const dimensionIndex = new Map(definition.dimensions.map((d, i) => [d.name, i]));

  let groupBySubject = false;
  const groupByDimensions: Array<{ index: number; name: string }> = [];
  req.groupBy.forEach((name, i) => {
    if (name === 'subject') {
      if (groupBySubject) throw bad(`group_by[${i}]`, 'duplicate_group_by', '`subject` is listed twice');
      groupBySubject = true;
      return;
    }
    const index = dimensionIndex.get(name);
    if (index === undefined) throw bad(`group_by[${i}]`, 'unknown_dimension', `${describe(name)} is neither \`subject\` nor a dimension of meter ${meter.slug} (${listDimensions(definition.dimensions)})`);
    if (groupByDimensions.some((d) => d.index === index)) throw bad(`group_by[${i}]`, 'duplicate_group_by', `${describe(name)} is listed twice`);
    groupByDimensions.push({ index, name });
  });
  if (req.subjects.length > MAX_SUBJECTS) throw bad('subjects', 'too_many_subjects', `at most ${MAX_SUBJECTS} subjects`);
  const dimensionFilters = req.dimensionFilters.map((f, i) => {
    const index = dimensionIndex.get(f.name);
    if (index === undefined) throw bad(`dimension_filters[${i}].name`, 'unknown_dimension', `${describe(f.name)} is not a dimension of meter ${meter.slug} (${listDimensions(definition.dimensions)})`);
    if (f.values.length === 0) throw bad(`dimension_filters[${i}].values`, 'missing_values', 'give at least one value');
    if (f.values.length > MAX_FILTER_VALUES) throw bad(`dimension_filters[${i}].values`, 'too_many_values', `at most ${MAX_FILTER_VALUES} values`);
    return { index, values: f.values };
  });

  return {
    namespace: meter.organizationId,
    meterVersionId: version.meterVersionId,
    aggregation: definition.aggregation,
    segments: version.segments.map((s) => ({
      backfillRunId: s.backfillRunId,
      fromMs: s.from?.getTime() ?? 0,
      // An open end (the whole history) reads every window.
      toMs: s.to?.getTime() ?? Number.MAX_SAFE_INTEGER,
    })),
    fromMs: req.from.getTime(),
    toMs: req.to.getTime(),
    windowSize,
    timeZone: req.windowTimeZone,
    groupBySubject,
    groupByDimensions,
    subjects: req.subjects,
    dimensionFilters,
  };
}

export function toQueryMeterResponse(meter: Meter, query: MeterUsageQuery, result: MeterUsageResult): QueryMeterResponse {
  return {
    meterSlug: meter.slug,
    meterVersionId: query.meterVersionId,
    aggregation: query.aggregation,
    rows: result.rows.map((r) => ({
      windowStart: new Date(r.windowStartMs),
      windowEnd: new Date(r.windowEndMs),
      subject: r.subject,
      dimensions: r.dimensions,
      value: r.value,
      eventCount: r.eventCount,
      invalidCount: r.invalidCount,
    })),
    invalidCount: result.invalidCount,
    complete: meter.currentVersion?.state === 'ready',
  };
}

// Names reach messages quoted and cut short: they are user input.
const describe = (name: string) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
const listDimensions = (dims: ReadonlyArray<{ name: string }>) => (dims.length === 0 ? 'it has none' : `it has ${dims.map((d) => d.name).join(', ')}`);
