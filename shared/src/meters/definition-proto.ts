import { MeterAggregation as ProtoAggregation, type MeterDefinition as ProtoDefinition } from '@polaris/proto';
import type { MeterAggregation, MeterDefinition } from './meter-definition';

// The one place a meter definition crosses between the wire (polaris.v1.MeterDefinition) and the
// domain: every service that reads or writes definitions over gRPC uses these two functions.

const TO_PROTO: Record<MeterAggregation, ProtoAggregation> = {
  SUM: ProtoAggregation.METER_AGGREGATION_SUM,
  COUNT: ProtoAggregation.METER_AGGREGATION_COUNT,
  UNIQUE_COUNT: ProtoAggregation.METER_AGGREGATION_UNIQUE_COUNT,
  MIN: ProtoAggregation.METER_AGGREGATION_MIN,
  MAX: ProtoAggregation.METER_AGGREGATION_MAX,
  AVG: ProtoAggregation.METER_AGGREGATION_AVG,
  LATEST: ProtoAggregation.METER_AGGREGATION_LATEST,
};
const FROM_PROTO = new Map(Object.entries(TO_PROTO).map(([name, value]) => [value, name as MeterAggregation]));

/**
 * A proto definition as checkMeterDefinition takes it (still unchecked: it came over the wire).
 * UNSPECIFIED or an unknown number becomes '', which the check refuses naming `aggregation`;
 * unset paths are '' and mean unset.
 */
export function meterDefinitionFromProto(definition: ProtoDefinition | undefined): unknown {
  if (!definition) return undefined;
  return {
    eventType: definition.eventType,
    aggregation: FROM_PROTO.get(definition.aggregation) ?? '',
    valuePath: definition.valuePath,
    uniquePath: definition.uniquePath,
    dimensions: definition.dimensions.map(({ name, path }) => ({ name, path })),
  };
}

export function meterDefinitionToProto(definition: MeterDefinition): ProtoDefinition {
  return {
    eventType: definition.eventType,
    aggregation: TO_PROTO[definition.aggregation],
    valuePath: definition.valuePath ?? '',
    uniquePath: definition.uniquePath ?? '',
    dimensions: definition.dimensions.map(({ name, path }) => ({ name, path })),
  };
}

/** The aggregation's name in the domain's words (SUM, COUNT, …), or undefined for UNSPECIFIED/unknown. */
export const meterAggregationName = (value: ProtoAggregation): MeterAggregation | undefined => FROM_PROTO.get(value);
