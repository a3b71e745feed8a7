import { Aggregation as ProtoAggregation, WindowSize as ProtoWindowSize } from '@polaris/proto';
import type { Aggregation, WindowSize } from './generated/resolvers-types';

// GraphQL enums to their proto values: the gateway translates them here and nowhere else. Keyed
// by the generated unions, so a value added to schema.graphql fails the typecheck until mapped.

const WINDOW_SIZE: Record<WindowSize, ProtoWindowSize> = {
  NONE: ProtoWindowSize.WINDOW_SIZE_UNSPECIFIED,
  MINUTE: ProtoWindowSize.WINDOW_SIZE_MINUTE,
  HOUR: ProtoWindowSize.WINDOW_SIZE_HOUR,
  DAY: ProtoWindowSize.WINDOW_SIZE_DAY,
};

const AGGREGATION: Record<Aggregation, ProtoAggregation> = {
  COUNT: ProtoAggregation.AGGREGATION_COUNT,
  SUM: ProtoAggregation.AGGREGATION_SUM,
};

export const toProtoWindowSize = (value: WindowSize): ProtoWindowSize => WINDOW_SIZE[value];

export const toProtoAggregation = (value: Aggregation): ProtoAggregation => AGGREGATION[value];
