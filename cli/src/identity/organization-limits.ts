import { organizationRateLimits, type Organization, type OrganizationRateLimit, type Queryable } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { CliError } from '../errors';
import { findOrganization } from './organizations';

// `polaris org limits`: an organization's own limit on the events it sends to the collector,
// through the repository of @polaris/postgres, with refusals worded for the terminal.

export interface LimitsFlags {
  eventsPerSecond?: string;
  burst?: string;
  clear?: boolean;
}

/** What `org limits` is asked to do, once its flags are checked. */
export type LimitsChange = { kind: 'show' } | { kind: 'clear' } | { kind: 'set'; eventsPerSecond: number; burst: number };

const FLAG_OF_FIELD: Record<string, string> = { eventsPerSecond: '--events-per-second', burst: '--burst' };

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new CliError(`${flag} takes a whole number of events, not ${JSON.stringify(text)}`);
  return Number(text.trim());
}

/** The flags as a change: none shows the limit; `--burst` defaults to the rate (no burst above it). */
export function limitsChange(flags: LimitsFlags): LimitsChange {
  const setting = flags.eventsPerSecond !== undefined || flags.burst !== undefined;
  if (flags.clear && setting) throw new CliError('give --clear, or --events-per-second [--burst], not both');
  if (flags.clear) return { kind: 'clear' };
  if (!setting) return { kind: 'show' };
  if (flags.eventsPerSecond === undefined) throw new CliError('--burst needs --events-per-second too');
  const eventsPerSecond = wholeNumber('--events-per-second', flags.eventsPerSecond);
  return { kind: 'set', eventsPerSecond, burst: flags.burst === undefined ? eventsPerSecond : wholeNumber('--burst', flags.burst) };
}

export interface LimitsResult {
  organization: Organization;
  /** The organization's own limit after the command; undefined: the collector's default applies. */
  limit: OrganizationRateLimit | undefined;
  /** `clear` only: whether there was one to clear. */
  cleared?: boolean;
}

export async function applyLimitsChange(db: Queryable, org: string, change: LimitsChange): Promise<LimitsResult> {
  const organization = await findOrganization(db, org);
  switch (change.kind) {
    case 'show':
      return { organization, limit: await organizationRateLimits.find(db, organization.id) };
    case 'clear':
      return { organization, limit: undefined, cleared: await organizationRateLimits.clear(db, organization.id) };
    case 'set':
      try {
        return { organization, limit: await organizationRateLimits.set(db, organization.id, change) };
      } catch (error) {
        if (error instanceof PolarisError && error.kind === 'invalid_argument') {
          throw new CliError(`${error.message} (${FLAG_OF_FIELD[error.field ?? ''] ?? error.field})`);
        }
        throw error;
      }
  }
}

/** When a change reaches the collectors: they keep a validated API key, limit included, this long. */
export const LIMITS_DELAY_NOTE = 'Collectors apply it within API_KEY_CACHE_TTL_MS (30 s by default), as they revalidate API keys.';

export function limitsJson({ organization, limit }: LimitsResult): string {
  return JSON.stringify({
    orgId: organization.id,
    slug: organization.slug,
    limit: limit ? { eventsPerSecond: limit.eventsPerSecond, burst: limit.burst, updatedAt: limit.updatedAt.toISOString() } : null,
  });
}

export function limitsText({ organization, limit, cleared }: LimitsResult, change: LimitsChange): string {
  const who = `${organization.slug} (${organization.id})`;
  const own = limit ? `${limit.eventsPerSecond} events per second, bursts of up to ${limit.burst} in one second` : undefined;
  switch (change.kind) {
    case 'show':
      return own
        ? `${who}: ${own} (set ${limit?.updatedAt.toISOString()})`
        : `${who}: no limit of its own; the collectors' default applies (RATE_LIMIT_EVENTS_PER_SECOND, RATE_LIMIT_BURST)`;
    case 'clear':
      return `${who}: ${cleared ? 'limit cleared' : 'had no limit of its own'}; the collectors' default applies\n${LIMITS_DELAY_NOTE}`;
    case 'set':
      return `${who}: ${own}\n${LIMITS_DELAY_NOTE}`;
  }
}
