import { WindowSize as ProtoWindowSize } from '@polaris/proto';
import type { WindowSize } from './generated/resolvers-types';

// GraphQL enums to their proto values: the gateway translates them here and nowhere else. Keyed
// by the generated unions, so a value added to schema.graphql fails the typecheck until mapped.
// (MeterAggregation needs no table: its GraphQL names are the domain's, which
// @polaris/shared/meters maps to proto.)

const WINDOW_SIZE: Record<WindowSize, ProtoWindowSize> = {
  NONE: ProtoWindowSize.WINDOW_SIZE_UNSPECIFIED,
  MINUTE: ProtoWindowSize.WINDOW_SIZE_MINUTE,
  HOUR: ProtoWindowSize.WINDOW_SIZE_HOUR,
  DAY: ProtoWindowSize.WINDOW_SIZE_DAY,
  MONTH: ProtoWindowSize.WINDOW_SIZE_MONTH,
};

export const toProtoWindowSize = (value: WindowSize): ProtoWindowSize => WINDOW_SIZE[value];
