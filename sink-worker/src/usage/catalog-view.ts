import { MeterCatalogSnapshot, type CatalogVersion } from '../meters/catalog-snapshot';

export interface CatalogViewOptions {
  /** MeterCatalog.SyncCatalog without a lease: this reader stores nothing, so it holds no revision back. */
  sync: () => Promise<{ revision: string; versions: CatalogVersion[] }>;
  /** How long one snapshot answers before the next call syncs again. */
  maxAgeMs: number;
  /** Monotonic milliseconds; tests inject one. */
  now?: () => number;
}

/**
 * The live meter catalog as the Usage API reads it, to show what each stored event counts for:
 * the same MeterCatalogSnapshot (and so the same matching by organization and event type, and
 * the same compiled definitions) the sink stamps events with. Synced on demand, at most once per
 * `maxAgeMs`, concurrent callers sharing one sync; a failed sync fails the call rather than show
 * events as counting for nothing.
 */
export class CatalogView {
  private snapshot: { value: MeterCatalogSnapshot; at: number } | undefined;
  private inFlight: Promise<MeterCatalogSnapshot> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: CatalogViewOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  async current(): Promise<MeterCatalogSnapshot> {
    if (this.snapshot && this.now() - this.snapshot.at < this.opts.maxAgeMs) return this.snapshot.value;
    this.inFlight ??= this.syncOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async syncOnce(): Promise<MeterCatalogSnapshot> {
    const at = this.now();
    const answer = await this.opts.sync();
    const value = new MeterCatalogSnapshot(answer.revision, answer.versions);
    this.snapshot = { value, at };
    return value;
  }
}
