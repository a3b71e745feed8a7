/**
 * The one gate a plan version's prices pass before they are stored (docs/billing.md, "Price
 * models"): the CLI, the gRPC `Plans` service and the repository all call `checkPrices`, so a
 * stored price is always one `ratePrice` can rate. Errors name the field as the proto spells it
 * (`prices[1].tiers[2].from`), so a client can point at its own input.
 *
 * Input fields may be spelled as the generated proto types spell them (`unitPrice`) or as the
 * proto does (`unit_price`, e.g. in a CLI JSON file); an unset proto3 string ("") or an empty
 * list means "not given". A field no price has is refused (`unknown_field`) rather than ignored:
 * a misspelt `free_qouta` must not silently bill the quota.
 */

import { PolarisError } from '../errors';
import { BillingDecimal, canonical, isDecimalText } from './decimal';
import { PRICE_MODELS, type Price, type PriceModel, type PriceTier } from './types';

export const MAX_PRICES = 50;
export const MAX_TIERS = 100;
export const MAX_PRICE_NAME_LENGTH = 200;
export const PRICE_INTEGER_DIGITS = 20;
export const PRICE_FRACTION_DIGITS = 12;

/** A price key becomes the invoice line key; the same rule as a meter slug. */
const KEY = /^[a-z][a-z0-9_]{0,62}$/;
const KEY_RULE = '1 to 63 characters: a lowercase letter, then lowercase letters, digits or _';

type PriceField = 'key' | 'name' | 'model' | 'meterSlug' | 'amount' | 'unitPrice' | 'tiers' | 'packageSize' | 'packagePrice' | 'freeQuota';
type TierField = 'from' | 'upTo' | 'unitPrice' | 'flatFee';

const PRICE_FIELDS: Record<PriceField, string> = {
  key: 'key',
  name: 'name',
  model: 'model',
  meterSlug: 'meter_slug',
  amount: 'amount',
  unitPrice: 'unit_price',
  tiers: 'tiers',
  packageSize: 'package_size',
  packagePrice: 'package_price',
  freeQuota: 'free_quota',
};
const TIER_FIELDS: Record<TierField, string> = { from: 'from', upTo: 'up_to', unitPrice: 'unit_price', flatFee: 'flat_fee' };

/** The fields each model reads, besides key, name and model. */
const MODEL_FIELDS: Record<PriceModel, readonly PriceField[]> = {
  FLAT: ['amount'],
  PER_UNIT: ['meterSlug', 'unitPrice', 'freeQuota'],
  GRADUATED: ['meterSlug', 'tiers', 'freeQuota'],
  VOLUME: ['meterSlug', 'tiers', 'freeQuota'],
  PACKAGE: ['meterSlug', 'packageSize', 'packagePrice', 'freeQuota'],
};

function invalid(code: string, field: string, reason: string): PolarisError {
  return new PolarisError('invalid_argument', code, `${field} ${reason}`, field);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "" (proto3's unset string), null and an empty list mean the field was not given. */
function isGiven(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

/**
 * The object's fields under their camelCase names, whichever spelling was used; a field given
 * under both spellings, or one no price has, is refused.
 */
function readFields<F extends string>(input: Record<string, unknown>, names: Record<F, string>, at: string): Partial<Record<F, unknown>> {
  const bySpelling = new Map<string, F>();
  for (const [camel, snake] of Object.entries(names) as Array<[F, string]>) {
    bySpelling.set(camel, camel);
    bySpelling.set(snake, camel);
  }
  const fields: Partial<Record<F, unknown>> = {};
  for (const [spelling, value] of Object.entries(input)) {
    const name = bySpelling.get(spelling);
    if (name === undefined) {
      throw invalid('unknown_field', `${at}.${spelling}`, `is not a price field (known: ${Object.values<string>(names).join(', ')})`);
    }
    if (name in fields && isGiven(fields[name]) && isGiven(value)) {
      throw invalid('duplicate_field', `${at}.${names[name]}`, `is given twice (as ${name} and ${names[name]}): give it once`);
    }
    if (!(name in fields) || isGiven(value)) fields[name] = value;
  }
  return fields;
}

/**
 * A price figure: plain decimal text, at most 20 integer and 12 fractional digits once leading
 * and trailing zeros are dropped. Never a JS number: `0.1` would already be a binary float.
 */
function parseDecimal(value: unknown, field: string): BillingDecimal {
  if (!isDecimalText(value)) {
    const why = typeof value === 'string' ? 'is not a plain decimal number' : 'must be decimal text (a string)';
    throw invalid('invalid_decimal', field, `${why}: digits with an optional - and decimal point, e.g. "12.5" or "0.0001" (no exponent, sign + or spaces)`);
  }
  const d = new BillingDecimal(value);
  if (d.decimalPlaces() > PRICE_FRACTION_DIGITS) throw invalid('invalid_decimal', field, `has more than ${PRICE_FRACTION_DIGITS} fractional digits`);
  if (d.abs().gte(new BillingDecimal(10).pow(PRICE_INTEGER_DIGITS))) throw invalid('invalid_decimal', field, `has more than ${PRICE_INTEGER_DIGITS} integer digits`);
  return d;
}

function money(value: unknown, field: string): string {
  const d = parseDecimal(value, field);
  if (d.isNegative() && !d.isZero()) throw invalid('negative_price', field, 'must not be negative: a credit arises only from an adjustment');
  return canonical(d);
}

/** An optional money field ("" = 0). */
function optionalMoney(value: unknown, field: string): string {
  return isGiven(value) ? money(value, field) : '0';
}

function required(fields: Partial<Record<PriceField, unknown>>, name: PriceField, at: string, model: PriceModel, hint: string): unknown {
  const value = fields[name];
  if (!isGiven(value)) throw invalid(`missing_${PRICE_FIELDS[name]}`, `${at}.${PRICE_FIELDS[name]}`, `is required for a ${model} price: ${hint}`);
  return value;
}

export function checkPrices(inputs: unknown, field = 'prices'): Price[] {
  if (inputs === undefined || inputs === null) return [];
  if (!Array.isArray(inputs)) throw invalid('invalid_prices', field, 'must be a list of prices (an empty list is a free plan)');
  if (inputs.length > MAX_PRICES) throw invalid('too_many_prices', field, `must have at most ${MAX_PRICES} prices, got ${inputs.length}`);
  const keys = new Set<string>();
  return inputs.map((input, i) => {
    const price = checkPrice(input, `${field}[${i}]`);
    if (keys.has(price.key)) throw invalid('duplicate_key', `${field}[${i}].key`, `"${price.key}" is used by an earlier price: keys must be unique in a plan version`);
    keys.add(price.key);
    return price;
  });
}

function checkPrice(input: unknown, at: string): Price {
  if (!isRecord(input)) throw invalid('invalid_price', at, 'must be an object: a key, a model and the fields the model needs');
  const fields = readFields(input, PRICE_FIELDS, at);

  if (!isGiven(fields.key)) throw invalid('missing_key', `${at}.key`, `is required (${KEY_RULE}, e.g. api_calls): it names the invoice line`);
  if (typeof fields.key !== 'string' || !KEY.test(fields.key)) throw invalid('invalid_key', `${at}.key`, `must be ${KEY_RULE} (e.g. api_calls)`);
  const key = fields.key;

  let name = key;
  if (isGiven(fields.name)) {
    if (typeof fields.name !== 'string' || fields.name.length > MAX_PRICE_NAME_LENGTH) {
      throw invalid('invalid_name', `${at}.name`, `must be text of at most ${MAX_PRICE_NAME_LENGTH} characters (empty: the key)`);
    }
    name = fields.name;
  }

  const model = fields.model;
  if (typeof model !== 'string' || !(PRICE_MODELS as readonly string[]).includes(model)) {
    throw invalid('unknown_model', `${at}.model`, `must be one of ${PRICE_MODELS.join(', ')}`);
  }
  const priceModel = model as PriceModel;
  refuseUnusedFields(fields, priceModel, at);

  const price: Price = { key, name, model: priceModel, freeQuota: '0' };
  if (priceModel === 'FLAT') {
    price.amount = money(required(fields, 'amount', at, priceModel, 'the charge per period, e.g. "49"'), `${at}.amount`);
    return price;
  }

  const meterSlug = required(fields, 'meterSlug', at, priceModel, 'the slug of the meter whose value is billed');
  if (typeof meterSlug !== 'string' || !KEY.test(meterSlug)) throw invalid('invalid_meter_slug', `${at}.meter_slug`, `must be a meter slug (${KEY_RULE})`);
  price.meterSlug = meterSlug;
  if (isGiven(fields.freeQuota)) {
    const quota = parseDecimal(fields.freeQuota, `${at}.free_quota`);
    if (quota.isNegative() && !quota.isZero()) throw invalid('negative_quantity', `${at}.free_quota`, 'must not be negative: the units free each period');
    price.freeQuota = canonical(quota);
  }

  switch (priceModel) {
    case 'PER_UNIT':
      price.unitPrice = money(required(fields, 'unitPrice', at, priceModel, 'the price of one unit, e.g. "0.002"'), `${at}.unit_price`);
      break;
    case 'GRADUATED':
    case 'VOLUME':
      price.tiers = checkTiers(required(fields, 'tiers', at, priceModel, 'a list of tiers, each { up_to, unit_price, flat_fee }, the last without up_to'), `${at}.tiers`);
      break;
    case 'PACKAGE': {
      const size = parseDecimal(required(fields, 'packageSize', at, priceModel, 'the units in one package, e.g. "1000"'), `${at}.package_size`);
      if (!size.isPositive() || size.isZero()) throw invalid('invalid_package_size', `${at}.package_size`, 'must be greater than 0');
      price.packageSize = canonical(size);
      price.packagePrice = money(required(fields, 'packagePrice', at, priceModel, 'the price of one package, e.g. "5"'), `${at}.package_price`);
      break;
    }
  }
  return price;
}

/** A field the model does not read is a mistake in the plan (tiers on a PER_UNIT price): say so. */
function refuseUnusedFields(fields: Partial<Record<PriceField, unknown>>, model: PriceModel, at: string): void {
  const used = MODEL_FIELDS[model];
  for (const name of Object.keys(PRICE_FIELDS) as PriceField[]) {
    if (name === 'key' || name === 'name' || name === 'model' || used.includes(name) || !isGiven(fields[name])) continue;
    const field = `${at}.${PRICE_FIELDS[name]}`;
    if (model === 'FLAT' && name === 'meterSlug') throw invalid('meter_not_allowed', field, 'must be empty for a FLAT price: it charges its amount whatever the usage');
    if (model === 'FLAT' && name === 'freeQuota') {
      // A checked FLAT price carries freeQuota "0", so checking it again must pass.
      if (isDecimalText(fields.freeQuota) && new BillingDecimal(fields.freeQuota).isZero()) continue;
      throw invalid('free_quota_not_allowed', field, 'must be empty for a FLAT price: it reads no usage');
    }
    const uses = used.map((n) => PRICE_FIELDS[n]).join(', ');
    throw invalid('field_not_allowed', field, `is not used by a ${model} price (it reads ${uses}): remove it or change the model`);
  }
}

/**
 * Tier i prices (from, up_to]: the first starts at 0, each next one where the previous one ends,
 * and only the last is unbounded. `from` may be left out; given, it must be exactly that.
 */
function checkTiers(input: unknown, at: string): PriceTier[] {
  if (!Array.isArray(input)) throw invalid('invalid_tiers', at, 'must be a list of tiers, each { up_to, unit_price, flat_fee }');
  if (input.length > MAX_TIERS) throw invalid('too_many_tiers', at, `must have at most ${MAX_TIERS} tiers, got ${input.length}`);
  const tiers: PriceTier[] = [];
  let expectedFrom = new BillingDecimal(0);
  input.forEach((tierInput, i) => {
    const tierAt = `${at}[${i}]`;
    const last = i === input.length - 1;
    if (!isRecord(tierInput)) throw invalid('invalid_tier', tierAt, 'must be an object { up_to, unit_price, flat_fee }');
    const fields = readFields(tierInput, TIER_FIELDS, tierAt);

    if (isGiven(fields.from)) {
      const from = parseDecimal(fields.from, `${tierAt}.from`);
      const expected = canonical(expectedFrom);
      const where = i === 0 ? 'the first tier starts at 0' : `the previous tier ends at ${expected}`;
      if (from.gt(expectedFrom)) throw invalid('tier_gap', `${tierAt}.from`, `must be ${expected}: ${where}, so units between would have no price`);
      if (from.lt(expectedFrom)) throw invalid('tier_overlap', `${tierAt}.from`, `must be ${expected}: ${where}, so units would be priced twice`);
    }
    const tier: PriceTier = {
      from: canonical(expectedFrom),
      unitPrice: optionalMoney(fields.unitPrice, `${tierAt}.unit_price`),
      flatFee: optionalMoney(fields.flatFee, `${tierAt}.flat_fee`),
    };
    if (isGiven(fields.upTo)) {
      if (last) throw invalid('last_tier_bounded', `${tierAt}.up_to`, 'must be empty: the last tier has no upper bound, so every quantity has a price');
      const upTo = parseDecimal(fields.upTo, `${tierAt}.up_to`);
      if (!upTo.gt(expectedFrom)) throw invalid('tier_bounds', `${tierAt}.up_to`, `must be greater than the tier's start, ${tier.from}`);
      tier.upTo = canonical(upTo);
      expectedFrom = upTo;
    } else if (!last) {
      throw invalid('unbounded_tier_not_last', `${tierAt}.up_to`, 'is required: only the last tier may be unbounded');
    }
    // The key order of a checked tier is fixed (from, upTo, unitPrice, flatFee) so stored JSON is stable.
    tiers.push(tier.upTo === undefined ? tier : { from: tier.from, upTo: tier.upTo, unitPrice: tier.unitPrice, flatFee: tier.flatFee });
  });
  return tiers;
}
