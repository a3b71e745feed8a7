// @polaris/shared/billing: currencies, price checks, pricing math and billing periods. Pure code,
// shared by the rating-worker (rates periods), the PostgreSQL repositories (check plans) and the
// CLI, so every path checks and rates a price the same way. Design: docs/billing.md.
export {
  BILLING_ANCHORS,
  PRICE_MODELS,
  type BillingAnchor,
  type BillingPeriod,
  type BillingSchedule,
  type Price,
  type PriceInput,
  type PriceModel,
  type PriceTier,
  type RatedPrice,
  type TierPiece,
} from './types';
export { checkCurrency, currencyMinorUnits } from './currency';
export {
  addMoney,
  addQuantity,
  canonicalDecimal,
  compareDecimal,
  isDecimalText,
  roundMoney,
  subtractMoney,
  subtractQuantity,
} from './decimal';
export { checkPrices, MAX_PRICE_NAME_LENGTH, MAX_PRICES, MAX_TIERS, PRICE_FRACTION_DIGITS, PRICE_INTEGER_DIGITS } from './price-input';
export { ratePrice } from './rate-price';
export { checkTimeZone, firstPeriod, periodContaining, periodStartingAt, truncateToMinute } from './periods';
export { canonicalJson, linesHash, type HashedInvoice } from './lines-hash';
