import { readFileSync } from 'node:fs';
import { BILLING_ANCHORS, type BillingAnchor } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { CliError } from '../errors';

// The flags of `customer`, `plan` and `subscription` turned into what the repositories check, and
// their refusals worded for the terminal: the checks themselves stay in the repositories.

/**
 * A refusal of a repository as a CliError; bad input also names the flag to fix. `flags` maps the
 * fields the repositories name (as the proto does) to this command's flags and arguments.
 */
export function billingCliError(error: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!(error instanceof PolarisError) || error.kind === 'internal' || error.kind === 'unavailable') return error;
  const field = error.field?.replace(/\[\d+\].*$/, '');
  const flag = field === undefined || (error.kind !== 'invalid_argument' && error.kind !== 'already_exists') ? undefined : flags[field];
  return new CliError(flag && !error.message.includes(flag) ? `${error.message} (${flag})` : error.message);
}

/** Runs `work`, turning the repositories' refusals into CliErrors naming the flags. */
export async function refusalsForTerminal<T>(flags: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw billingCliError(error, flags);
  }
}

/** An ISO 8601 instant, e.g. 2026-11-01T00:00:00Z; a bare day is midnight UTC. */
export function parseInstant(text: string, flag: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new CliError(`${flag} takes an ISO 8601 time such as 2026-11-01T00:00:00Z, not ${JSON.stringify(text)}`);
  return at;
}

/** A plan version number: 1 or more (0 too where it means "the newest published"). */
export function parseVersion(text: string, flag: string, opts: { zero: boolean } = { zero: false }): number {
  const version = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(version) || version < (opts.zero ? 0 : 1)) {
    throw new CliError(`${flag} takes a version number${opts.zero ? ' (0: the newest published)' : ''}, such as 2, not ${JSON.stringify(text)}`);
  }
  return version;
}

export function parseAnchor(text: string): BillingAnchor {
  const anchor = text.trim().toLowerCase();
  if (!(BILLING_ANCHORS as readonly string[]).includes(anchor)) throw new CliError(`--anchor takes ${BILLING_ANCHORS.join(' or ')}, not ${JSON.stringify(text)}`);
  return anchor as BillingAnchor;
}

/** JSON.parse's reviver with Node 24's source text access (not yet in TypeScript's lib). */
type Reviver = (key: string, value: unknown, context: { source?: string }) => unknown;

/**
 * `--prices`: a JSON array of prices, inline or `@file.json`, in the proto's field names
 * (`meter_slug`, `unit_price`, `tiers: [{ "up_to": … }]`), which checkPrices reads as they are
 * and refuses by path (`prices[1].tiers[0].up_to`). A JSON number is kept as its exact source text
 * (0.002 stays "0.002"), never as a binary float.
 */
export function readPrices(value: string): unknown[] {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error) {
      throw new CliError(`--prices: cannot read ${value.slice(1)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const exactNumbers: Reviver = (_key, parsed, context) => (typeof parsed === 'number' && context.source !== undefined ? context.source : parsed);
  let prices: unknown;
  try {
    prices = JSON.parse(text, exactNumbers as (key: string, value: unknown) => unknown);
  } catch (error) {
    throw new CliError(`--prices is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(prices)) {
    throw new CliError(`--prices must be a JSON array of prices, e.g. '[{"key":"base","model":"FLAT","amount":"49"}]'`);
  }
  return prices;
}
