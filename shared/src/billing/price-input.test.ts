import { describe, expect, it } from 'vitest';
import { checkPrices, MAX_PRICES, MAX_TIERS } from './price-input';

const perUnit = { key: 'api_calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.002' };
const ladder = [
  { upTo: '1000', unitPrice: '0.01' },
  { unitPrice: '0.005', flatFee: '2' },
];
const graduated = { key: 'tokens', model: 'GRADUATED', meterSlug: 'tokens', tiers: ladder };

/** The error checkPrices throws for `prices`, as { code, field }. */
function refusal(prices: unknown): { code: string; field?: string } {
  try {
    checkPrices(prices);
  } catch (err) {
    expect(err).toMatchObject({ name: 'PolarisError', kind: 'invalid_argument' });
    const { code, field, message } = err as { code: string; field?: string; message: string };
    // Every message starts with the field it names, so a client can show it as is.
    if (field) expect(message.startsWith(field)).toBe(true);
    return { code, field };
  }
  throw new Error('checkPrices accepted the prices');
}

describe('checkPrices: valid prices', () => {
  it('checks every model into canonical text, defaults filled', () => {
    expect(
      checkPrices([
        { key: 'base', name: 'Base fee', model: 'FLAT', amount: '49.00' },
        { ...perUnit, freeQuota: '1000.0' },
        graduated,
        { key: 'seats', model: 'VOLUME', meterSlug: 'seats', tiers: [{ from: '0', upTo: '10', unitPrice: '5' }, { from: '10', unitPrice: '4' }] },
        { key: 'storage', model: 'PACKAGE', meterSlug: 'gb', packageSize: '1000', packagePrice: '5' },
      ]),
    ).toEqual([
      { key: 'base', name: 'Base fee', model: 'FLAT', amount: '49', freeQuota: '0' },
      { key: 'api_calls', name: 'api_calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.002', freeQuota: '1000' },
      {
        key: 'tokens',
        name: 'tokens',
        model: 'GRADUATED',
        meterSlug: 'tokens',
        freeQuota: '0',
        tiers: [
          { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '0' },
          { from: '1000', unitPrice: '0.005', flatFee: '2' },
        ],
      },
      {
        key: 'seats',
        name: 'seats',
        model: 'VOLUME',
        meterSlug: 'seats',
        freeQuota: '0',
        tiers: [
          { from: '0', upTo: '10', unitPrice: '5', flatFee: '0' },
          { from: '10', unitPrice: '4', flatFee: '0' },
        ],
      },
      { key: 'storage', name: 'storage', model: 'PACKAGE', meterSlug: 'gb', packageSize: '1000', packagePrice: '5', freeQuota: '0' },
    ]);
  });

  it('allows a free plan: no prices at all', () => {
    expect(checkPrices([])).toEqual([]);
    expect(checkPrices(undefined)).toEqual([]);
  });

  it('reads a generated proto message: unset strings are "", unset lists []', () => {
    const proto = { key: 'api', name: '', model: 'PER_UNIT', meterSlug: 'api', amount: '', unitPrice: '0.5', tiers: [], packageSize: '', packagePrice: '', freeQuota: '' };
    expect(checkPrices([proto])).toEqual([{ key: 'api', name: 'api', model: 'PER_UNIT', meterSlug: 'api', unitPrice: '0.5', freeQuota: '0' }]);
  });

  it('reads the proto spelling (CLI JSON) as well', () => {
    const snake = { key: 'api', model: 'GRADUATED', meter_slug: 'api', free_quota: '10', tiers: [{ up_to: '5', unit_price: '1', flat_fee: '0.5' }, { unit_price: '0' }] };
    expect(checkPrices([snake])[0]).toMatchObject({ meterSlug: 'api', freeQuota: '10', tiers: [{ upTo: '5', unitPrice: '1', flatFee: '0.5' }, { from: '5' }] });
  });

  it('accepts prices finer than any currency and is idempotent on its own output', () => {
    const checked = checkPrices([{ ...perUnit, unitPrice: '0.0001' }, graduated, { key: 'flat', model: 'FLAT', amount: '0' }]);
    expect(checked[0]?.unitPrice).toBe('0.0001');
    expect(checkPrices(JSON.parse(JSON.stringify(checked)))).toEqual(checked);
  });

  it('accepts the limits themselves', () => {
    const prices = Array.from({ length: MAX_PRICES }, (_, i) => ({ key: `p${i}`, model: 'FLAT', amount: '1' }));
    expect(checkPrices(prices)).toHaveLength(MAX_PRICES);
    const tiers = Array.from({ length: MAX_TIERS }, (_, i) => (i === MAX_TIERS - 1 ? { unitPrice: '1' } : { upTo: String(i + 1), unitPrice: '1' }));
    expect(checkPrices([{ ...graduated, tiers }])[0]?.tiers).toHaveLength(MAX_TIERS);
    expect(checkPrices([{ ...perUnit, unitPrice: '99999999999999999999.999999999999' }])[0]?.unitPrice).toBe('99999999999999999999.999999999999');
    expect(checkPrices([{ ...perUnit, name: 'n'.repeat(200) }])[0]?.name).toHaveLength(200);
  });
});

describe('checkPrices: refusals name the code and the field', () => {
  const tiers = (...rungs: unknown[]) => [{ ...graduated, tiers: rungs }];
  it.each<[string, unknown, string, string]>([
    ['not a list', { key: 'x' }, 'invalid_prices', 'prices'],
    ['too many prices', Array.from({ length: MAX_PRICES + 1 }, (_, i) => ({ key: `p${i}`, model: 'FLAT', amount: '1' })), 'too_many_prices', 'prices'],
    ['a price that is not an object', ['x'], 'invalid_price', 'prices[0]'],
    ['an unknown field', [{ ...perUnit, free_qouta: '10' }], 'unknown_field', 'prices[0].free_qouta'],
    ['a field under both spellings', [{ ...perUnit, unit_price: '0.3' }], 'duplicate_field', 'prices[0].unit_price'],
    ['no key', [{ ...perUnit, key: '' }], 'missing_key', 'prices[0].key'],
    ['a bad key', [perUnit, { ...perUnit, key: 'API-calls' }], 'invalid_key', 'prices[1].key'],
    ['a key starting with a digit', [{ ...perUnit, key: '1x' }], 'invalid_key', 'prices[0].key'],
    ['a duplicate key', [perUnit, graduated, { ...perUnit }], 'duplicate_key', 'prices[2].key'],
    ['a name too long', [{ ...perUnit, name: 'n'.repeat(201) }], 'invalid_name', 'prices[0].name'],
    ['no model', [{ key: 'x', amount: '1' }], 'unknown_model', 'prices[0].model'],
    ['a lower-case model', [{ ...perUnit, model: 'per_unit' }], 'unknown_model', 'prices[0].model'],
    ['a proto enum name', [{ ...perUnit, model: 'PRICE_MODEL_PER_UNIT' }], 'unknown_model', 'prices[0].model'],
    ['a metered price without a meter', [{ ...perUnit, meterSlug: '' }], 'missing_meter_slug', 'prices[0].meter_slug'],
    ['a bad meter slug', [{ ...perUnit, meterSlug: 'Api Calls' }], 'invalid_meter_slug', 'prices[0].meter_slug'],
    ['FLAT with a meter', [{ key: 'f', model: 'FLAT', amount: '1', meterSlug: 'api' }], 'meter_not_allowed', 'prices[0].meter_slug'],
    ['FLAT with a free quota', [{ key: 'f', model: 'FLAT', amount: '1', freeQuota: '10' }], 'free_quota_not_allowed', 'prices[0].free_quota'],
    ['FLAT without amount', [{ key: 'f', model: 'FLAT' }], 'missing_amount', 'prices[0].amount'],
    ['PER_UNIT without unit price', [{ ...perUnit, unitPrice: '' }], 'missing_unit_price', 'prices[0].unit_price'],
    ['GRADUATED without tiers', [{ ...graduated, tiers: [] }], 'missing_tiers', 'prices[0].tiers'],
    ['VOLUME without tiers', [{ ...graduated, model: 'VOLUME', tiers: undefined }], 'missing_tiers', 'prices[0].tiers'],
    ['PACKAGE without size', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packagePrice: '5' }], 'missing_package_size', 'prices[0].package_size'],
    ['PACKAGE without price', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packageSize: '5' }], 'missing_package_price', 'prices[0].package_price'],
    ['PACKAGE of size 0', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packageSize: '0', packagePrice: '5' }], 'invalid_package_size', 'prices[0].package_size'],
    ['PACKAGE of negative size', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packageSize: '-1', packagePrice: '5' }], 'invalid_package_size', 'prices[0].package_size'],
    ['tiers on PER_UNIT', [{ ...perUnit, tiers: ladder }], 'field_not_allowed', 'prices[0].tiers'],
    ['a unit price on GRADUATED', [{ ...graduated, unitPrice: '1' }], 'field_not_allowed', 'prices[0].unit_price'],
    ['an amount on PACKAGE', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packageSize: '5', packagePrice: '5', amount: '3' }], 'field_not_allowed', 'prices[0].amount'],
    ['a unit price on FLAT', [{ key: 'f', model: 'FLAT', amount: '1', unitPrice: '2' }], 'field_not_allowed', 'prices[0].unit_price'],
    ['a negative price', [{ ...perUnit, unitPrice: '-0.1' }], 'negative_price', 'prices[0].unit_price'],
    ['a negative flat amount', [{ key: 'f', model: 'FLAT', amount: '-49' }], 'negative_price', 'prices[0].amount'],
    ['a negative package price', [{ key: 'p', model: 'PACKAGE', meterSlug: 'gb', packageSize: '5', packagePrice: '-5' }], 'negative_price', 'prices[0].package_price'],
    ['a negative tier fee', tiers({ upTo: '10', flatFee: '-1' }, {}), 'negative_price', 'prices[0].tiers[0].flat_fee'],
    ['a negative free quota', [{ ...perUnit, freeQuota: '-1' }], 'negative_quantity', 'prices[0].free_quota'],
    ['an exponent', [{ ...perUnit, unitPrice: '2e-3' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['a plus sign', [{ ...perUnit, unitPrice: '+1' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['spaces', [{ ...perUnit, unitPrice: ' 1' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['a trailing space', [{ ...perUnit, unitPrice: '1 ' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['NaN', [{ ...perUnit, unitPrice: 'NaN' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['Infinity', [{ key: 'f', model: 'FLAT', amount: 'Infinity' }], 'invalid_decimal', 'prices[0].amount'],
    ['a bare point', [{ ...perUnit, unitPrice: '.5' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['a JS number', [{ ...perUnit, unitPrice: 0.5 }], 'invalid_decimal', 'prices[0].unit_price'],
    ['21 integer digits', [{ ...perUnit, unitPrice: '100000000000000000000' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['13 fraction digits', [{ ...perUnit, unitPrice: '0.0000000000001' }], 'invalid_decimal', 'prices[0].unit_price'],
    ['a bad free quota', [{ ...perUnit, freeQuota: '1e3' }], 'invalid_decimal', 'prices[0].free_quota'],
    ['too many tiers', [{ ...graduated, tiers: Array.from({ length: MAX_TIERS + 1 }, (_, i) => ({ upTo: String(i + 1) })) }], 'too_many_tiers', 'prices[0].tiers'],
    ['tiers not a list', [{ ...graduated, tiers: { upTo: '1' } }], 'invalid_tiers', 'prices[0].tiers'],
    ['a tier not an object', tiers({ upTo: '1' }, 'x'), 'invalid_tier', 'prices[0].tiers[1]'],
    ['an unknown tier field', tiers({ upTo: '1', price: '2' }, {}), 'unknown_field', 'prices[0].tiers[0].price'],
    ['a first tier not from 0', tiers({ from: '1', upTo: '10' }, {}), 'tier_gap', 'prices[0].tiers[0].from'],
    ['a gap', tiers({ upTo: '10' }, { from: '10', upTo: '20' }, { from: '21' }), 'tier_gap', 'prices[0].tiers[2].from'],
    ['an overlap', tiers({ upTo: '10' }, { upTo: '20' }, { from: '15' }), 'tier_overlap', 'prices[0].tiers[2].from'],
    ['a negative first from', tiers({ from: '-1', upTo: '10' }, {}), 'tier_overlap', 'prices[0].tiers[0].from'],
    ['a bad tier from', tiers({ upTo: '10' }, { from: 'ten' }), 'invalid_decimal', 'prices[0].tiers[1].from'],
    ['a bound that does not grow', tiers({ upTo: '10' }, { upTo: '10' }, {}), 'tier_bounds', 'prices[0].tiers[1].up_to'],
    ['a bound below the start', tiers({ upTo: '10' }, { upTo: '5' }, {}), 'tier_bounds', 'prices[0].tiers[1].up_to'],
    ['a first bound of 0', tiers({ upTo: '0' }, {}), 'tier_bounds', 'prices[0].tiers[0].up_to'],
    ['a bounded last tier', tiers({ upTo: '10' }, { upTo: '20' }), 'last_tier_bounded', 'prices[0].tiers[1].up_to'],
    ['a single bounded tier', tiers({ upTo: '10' }), 'last_tier_bounded', 'prices[0].tiers[0].up_to'],
    ['an unbounded tier before the last', tiers({ upTo: '10' }, { unitPrice: '1' }, {}), 'unbounded_tier_not_last', 'prices[0].tiers[1].up_to'],
  ])('%s → %s at %s', (_, prices, code, field) => {
    expect(refusal(prices)).toEqual({ code, field });
  });

  it('names the field it was given', () => {
    expect(() => checkPrices([{ ...perUnit, unitPrice: 'x' }], 'versions[0].prices')).toThrow(
      expect.objectContaining({ code: 'invalid_decimal', field: 'versions[0].prices[0].unit_price' }),
    );
  });

  it('says what a field_not_allowed price reads instead', () => {
    expect(() => checkPrices([{ ...perUnit, tiers: ladder }])).toThrow('prices[0].tiers is not used by a PER_UNIT price (it reads meter_slug, unit_price, free_quota)');
  });
});
