import type { IdentityHash } from '@polaris/clickhouse';

/**
 * Bits per identity and probes per lookup of one Bloom segment: ~0.8% false positives when full
 * (k = 7 is the optimum for 10 bits). 10 bits = 1.25 MB per million identities.
 */
const BITS_PER_ITEM = 10;
const PROBES = 7;
/** The smallest segment: a partition with no history still takes new identities without growing at once. */
export const MIN_SEGMENT_ITEMS = 1 << 16;

/** One Bloom filter of fixed size, indexed by double hashing of the identity's 64-bit hash. */
class BloomSegment {
  readonly capacity: number;
  private readonly bits: Uint32Array;
  private readonly size: number;
  count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.size = Math.max(64, Math.ceil((capacity * BITS_PER_ITEM) / 32) * 32);
    this.bits = new Uint32Array(this.size / 32);
  }

  add(high: number, low: number): void {
    const step = high | 1;
    let at = low >>> 0;
    for (let i = 0; i < PROBES; i++) {
      const bit = at % this.size;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
      at = (at + step) >>> 0;
    }
    this.count++;
  }

  has(high: number, low: number): boolean {
    const step = high | 1;
    let at = low >>> 0;
    for (let i = 0; i < PROBES; i++) {
      const bit = at % this.size;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
      at = (at + step) >>> 0;
    }
    return true;
  }

  get bytes(): number {
    return this.bits.byteLength;
  }
}

/**
 * The identities stored for one Kafka partition, as a growing Bloom filter: `mightHold` is
 * false only for an identity never added (exact), true for every added one and for ~1% of the
 * others. When the newest segment is full a new one, twice as large, is started, so the false
 * positive rate stays about 1% per segment while the partition's history grows; sized from the
 * rebuild's row count, a filter normally has one or two.
 */
export class IdentityFilter {
  private readonly segments: BloomSegment[] = [];

  constructor(expectedItems: number) {
    this.segments.push(new BloomSegment(Math.max(MIN_SEGMENT_ITEMS, Math.ceil(expectedItems * 1.25))));
  }

  add(h: IdentityHash): void {
    let last = this.segments[this.segments.length - 1] as BloomSegment;
    if (last.count >= last.capacity) {
      last = new BloomSegment(last.capacity * 2);
      this.segments.push(last);
    }
    last.add(h.high, h.low);
  }

  mightHold(h: IdentityHash): boolean {
    for (const s of this.segments) if (s.has(h.high, h.low)) return true;
    return false;
  }

  /** Identities added. */
  get count(): number {
    return this.segments.reduce((n, s) => n + s.count, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }
}
