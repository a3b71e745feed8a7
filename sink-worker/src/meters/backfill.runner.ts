import { Counter, Gauge, type Registry } from 'prom-client';
import { toClickHouseDateTime, type MeterBackfillStore } from '@polaris/clickhouse';
import { parseJsonExact } from '@polaris/shared/contracts';
import { compileMeter, extractMeter, type MeterDefinition } from '@polaris/shared/meters';
import type { Logger } from '@polaris/shared/service';

/** A run the catalog handed to this worker (MeterCatalog.ClaimBackfill). */
export interface ClaimedRun {
  backfillRunId: string;
  organizationId: string;
  meterVersionId: string;
  /** Events stamped below this revision were not counted live: the backfill counts them. */
  catalogRevision: string;
  definition: MeterDefinition;
  fromMs?: number;
  toMs?: number;
}

/** The sink's side of MeterCatalog for backfills. */
export interface BackfillCatalog {
  claim(): Promise<ClaimedRun | undefined>;
  /** Extends the claim; true when the run was superseded and must stop. */
  report(runId: string, done: number, total: number): Promise<{ cancelled: boolean }>;
  complete(runId: string, done: number): Promise<void>;
}

export interface BackfillRunnerOptions {
  /** How long to wait before asking again when there is nothing to claim. */
  pollIntervalMs: number;
  /** Events read and written per step (one SELECT, one INSERT). */
  pageSize: number;
}

/**
 * Runs meter backfills (docs/meters.md): claims a run, reads the stored events the live path did
 * not count (stamped below the version's revision, one copy per identity), evaluates them with
 * the same extractor as the live path, and writes the values under the run's own id, reporting
 * progress as it goes. The catalog makes the run's rows count only once it completes.
 *
 * A run is never resumed after an error: an INSERT whose answer was lost may have been stored,
 * and writing the page again would count it twice. The worker gives the run up instead; when its
 * claim expires the catalog supersedes it with a fresh run id, which starts over, and the rows
 * of the abandoned run are never read.
 */
export class BackfillRunner {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly events: Counter;
  private readonly runs: Counter;
  private readonly active: Gauge;

  constructor(
    private readonly catalog: BackfillCatalog,
    private readonly store: MeterBackfillStore,
    private readonly opts: BackfillRunnerOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const registers = [registry];
    this.events = new Counter({ name: 'meter_backfill_events_total', help: 'Stored events evaluated by meter backfills', registers });
    this.runs = new Counter({ name: 'meter_backfill_runs_total', help: 'Meter backfill runs finished by this worker, by outcome', labelNames: ['outcome'], registers });
    this.active = new Gauge({ name: 'meter_backfill_active', help: '1 while this worker runs a backfill', registers });
  }

  start(): void {
    this.running = true;
    this.loop = this.pollLoop();
  }

  /** Stops claiming; a run in hand stops after its current page (its claim then expires). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        const run = await this.catalog.claim();
        if (run) {
          worked = true;
          await this.runOne(run);
        }
      } catch (err) {
        this.logger.error({ err }, 'meter backfill step failed; the run will be superseded and start over');
      }
      if (!worked && this.running) await this.sleep(this.opts.pollIntervalMs);
    }
  }

  private async runOne(run: ClaimedRun): Promise<void> {
    const log = this.logger.child({ backfillRunId: run.backfillRunId, meterVersionId: run.meterVersionId });
    const meter = compileMeter(run.definition);
    const scope = {
      namespace: run.organizationId,
      eventType: run.definition.eventType,
      belowRevision: run.catalogRevision,
      fromMs: run.fromMs,
      toMs: run.toMs,
    };
    this.active.set(1);
    try {
      const total = await this.store.countEvents(scope);
      log.info({ total }, 'meter backfill started');
      let done = 0;
      let after: Awaited<ReturnType<MeterBackfillStore['readEvents']>>[number] | undefined;
      for (;;) {
        if (!this.running) return;
        const page = await this.store.readEvents({ ...scope, after, limit: this.opts.pageSize });
        if (page.length === 0) break;
        await this.store.insertValues(
          page.map((e) => {
            const x = extractMeter(meter, parseJsonExact(e.data));
            return {
              namespace: run.organizationId,
              meter_version_id: run.meterVersionId,
              backfill_run: run.backfillRunId,
              subject: e.subject,
              time: toClickHouseDateTime(e.time_ms),
              time_ms: e.time_ms,
              event_key: `${e.source}\n${e.id}`,
              value: x.value,
              unique_key: x.uniqueKey,
              dimensions: x.dimensions,
              valid: x.valid ? 1 : 0,
            };
          }),
        );
        done += page.length;
        this.events.inc(page.length);
        after = page[page.length - 1];
        const { cancelled } = await this.catalog.report(run.backfillRunId, done, Math.max(total, done));
        if (cancelled) {
          log.warn({ done }, 'meter backfill superseded; stopping');
          this.runs.inc({ outcome: 'superseded' });
          return;
        }
      }
      await this.catalog.complete(run.backfillRunId, done);
      this.runs.inc({ outcome: 'completed' });
      log.info({ done }, 'meter backfill completed');
    } catch (err) {
      this.runs.inc({ outcome: 'abandoned' });
      throw err;
    } finally {
      this.active.set(0);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
