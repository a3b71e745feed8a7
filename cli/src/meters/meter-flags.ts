import { VALUE_AGGREGATIONS, type MeterAggregation, type MeterDefinition } from '@polaris/shared/meters';
import { CliError } from '../errors';

// The definition flags of `meter create` and `meter update`, turned into what the repository
// checks (checkMeterDefinition): the check itself, and its wording, stay in one place.

export interface DefinitionFlags {
  eventType?: string;
  aggregation?: string;
  valuePath?: string;
  uniquePath?: string;
  /** `name=path`, in order; given at all, they replace the meter's dimensions. */
  dimension?: string[];
  /** `update` only: drop every dimension. */
  clearDimensions?: boolean;
}

/** "model=$.model" → { name, path }; the path may itself contain '='. */
export function parseDimension(text: string): { name: string; path: string } {
  const at = text.indexOf('=');
  if (at <= 0) throw new CliError(`--dimension takes name=path, e.g. --dimension 'model=$.model', not ${JSON.stringify(text)}`);
  return { name: text.slice(0, at).trim(), path: text.slice(at + 1).trim() };
}

/** `sum` and `SUM` alike; an unknown one is left for the definition check to refuse by name. */
const aggregation = (text: string): string => text.trim().toUpperCase().replace(/-/g, '_');

/** The definition `meter create` was given. */
export function definitionFromFlags(flags: DefinitionFlags): unknown {
  return {
    eventType: flags.eventType ?? '',
    aggregation: aggregation(flags.aggregation ?? ''),
    valuePath: flags.valuePath,
    uniquePath: flags.uniquePath,
    dimensions: (flags.dimension ?? []).map(parseDimension),
  };
}

const givesDefinition = (flags: DefinitionFlags): boolean =>
  [flags.eventType, flags.aggregation, flags.valuePath, flags.uniquePath].some((f) => f !== undefined) || (flags.dimension?.length ?? 0) > 0 || flags.clearDimensions === true;

/**
 * The definition `meter update` asks for: the current one with the given flags over it, or
 * undefined when no definition flag was given. A path the new aggregation refuses (value path
 * for COUNT, unique path for anything but UNIQUE_COUNT) is dropped when it was only inherited,
 * so `--aggregation COUNT` alone turns a SUM meter into a count.
 */
export function mergeDefinition(current: MeterDefinition, flags: DefinitionFlags): unknown {
  if (!givesDefinition(flags)) return undefined;
  if (flags.clearDimensions && (flags.dimension?.length ?? 0) > 0) throw new CliError('give --dimension or --clear-dimensions, not both');
  const next = flags.aggregation === undefined ? current.aggregation : aggregation(flags.aggregation);
  const valuePath = flags.valuePath ?? (VALUE_AGGREGATIONS.has(next as MeterAggregation) ? current.valuePath : undefined);
  const uniquePath = flags.uniquePath ?? (next === 'UNIQUE_COUNT' ? current.uniquePath : undefined);
  let dimensions = current.dimensions;
  if (flags.clearDimensions) dimensions = [];
  else if ((flags.dimension?.length ?? 0) > 0) dimensions = (flags.dimension ?? []).map(parseDimension);
  return { eventType: flags.eventType ?? current.eventType, aggregation: next, valuePath, uniquePath, dimensions };
}

/** A UTC day (2024-05-01) or an ISO time; whether it is a whole day is the repository's check. */
export function parseDay(text: string, flag: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(at.getTime())) throw new CliError(`${flag} takes a UTC day such as 2024-05-01, not ${JSON.stringify(text)}`);
  return at;
}

/** The CLI flag for a field the repositories name as the proto does. */
export function flagOf(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  if (field.startsWith('dimensions')) return '--dimension';
  const flags: Record<string, string> = {
    slug: 'the <slug> argument',
    organization_id: '--org',
    event_type: '--event-type',
    aggregation: '--aggregation',
    value_path: '--value-path',
    unique_path: '--unique-path',
    name: '--name',
    description: '--description',
    backfill_from: '--backfill-from',
    from: '--from',
    to: '--to',
    definition: '--event-type and --aggregation',
  };
  return flags[field];
}
