// @polaris/shared/meters: what a meter measures and how one event becomes its value. Pure code,
// shared by the rating-worker (checks definitions), the sink (extracts live and backfilled values)
// and the CLI, so every path reads and refuses the same events. Design: docs/meters.md.
export {
  canonicalDefinition,
  checkMeterDefinition,
  checkMeterSlug,
  definitionsMeasureTheSame,
  MAX_EVENT_TYPE_LENGTH,
  MAX_METER_DIMENSIONS,
  METER_AGGREGATIONS,
  VALUE_AGGREGATIONS,
  type MeterAggregation,
  type MeterDefinition,
  type MeterDimension,
} from './meter-definition';
export { formatJsonPath, MAX_PATH_BYTES, MAX_PATH_INDEX, MAX_PATH_SEGMENTS, parseJsonPath, readPath, type PathSegment } from './json-path';
export {
  canonicalNumberText,
  DECIMAL_FRACTION_DIGITS,
  DECIMAL_INTEGER_DIGITS,
  isJsonNumberLiteral,
  toExactDecimal,
  type ExactDecimalResult,
} from './exact-decimal';
export { compileMeter, extractMeter, MAX_DIMENSION_VALUE_BYTES, type CompiledMeter, type MeterExtraction } from './extract-meter';
export { meterAggregationName, meterDefinitionFromProto, meterDefinitionToProto } from './definition-proto';
