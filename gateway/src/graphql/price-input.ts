import type { Price as ProtoPrice } from '@polaris/proto';
import { toProtoPriceModel } from './enums';
import type { PriceInput } from './generated/resolvers-types';

/**
 * A price as the caller wrote it, as the Plans service takes it: a figure not given is "" (proto3's
 * "not given"), so the service's checks (checkPrices) refuse a field the model does not read, and
 * name it, exactly as they do for the CLI. The figures stay the caller's decimal text.
 */
export function priceToProto(price: PriceInput): ProtoPrice {
  return {
    key: price.key,
    name: price.name ?? '',
    model: toProtoPriceModel(price.model),
    meterSlug: price.meterSlug ?? '',
    amount: price.amount ?? '',
    unitPrice: price.unitPrice ?? '',
    tiers: (price.tiers ?? []).map((t) => ({ from: t.from ?? '', upTo: t.upTo ?? '', unitPrice: t.unitPrice ?? '', flatFee: t.flatFee ?? '' })),
    packageSize: price.packageSize ?? '',
    packagePrice: price.packagePrice ?? '',
    freeQuota: price.freeQuota ?? '',
  };
}
