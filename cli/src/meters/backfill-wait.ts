import { setTimeout as sleep } from 'node:timers/promises';
import type { BackfillRun } from '@polaris/postgres';
import cliProgress from 'cli-progress';
import { CliError } from '../errors';
import { runRange } from './meter-listing';

// `meter backfill --wait`: follows a run until it ends, by polling its row, and shows how far it
// got. A run superseded because its worker stopped reporting is followed into the run that took
// over; any other end but `completed` is an error (exit 1).

export interface BackfillProgress {
  update(run: BackfillRun): void;
  /** A note for the person watching (a takeover), printed above the bar. */
  note(text: string): void;
  stop(): void;
}

/** A bar redrawn in place on a terminal (stderr, so stdout stays the result). */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): BackfillProgress {
  const bar = new cliProgress.SingleBar(
    { stream, format: 'run {run} {state} [{bar}] {percentage}% | {value}/{total} events | {duration_formatted}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(run) {
      const payload = { run: run.id, state: run.state.padEnd(9) };
      // Until the worker has counted the range, the total is unknown: show 0 of 1.
      const total = Math.max(run.eventsTotal, run.eventsDone, 1);
      if (!started) {
        bar.start(total, run.eventsDone, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(run.eventsDone, payload);
      }
    },
    note(text) {
      if (started) bar.stop();
      started = false;
      stream.write(`${text}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** One line per change of state or of tenth, for logs and pipes where a bar cannot redraw. */
export function lineProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): BackfillProgress {
  let last = '';
  return {
    update(run) {
      const tenth = run.eventsTotal > 0 ? Math.floor((run.eventsDone / run.eventsTotal) * 10) * 10 : 0;
      const line = `run ${run.id} ${run.state}${run.eventsTotal > 0 ? ` ${run.eventsDone}/${run.eventsTotal} events (${tenth}%+)` : ''}`;
      if (line !== last) write(line);
      last = line;
    },
    note: write,
    stop: () => undefined,
  };
}

const WAITING_HINT =
  'queued: a sink-worker with the backfill capability claims it once every storing sink has synced the catalog revision that made this version';

/**
 * Polls `read(runId)` every `intervalMs` until the run ends; returns the completed run (perhaps a
 * later one that took over), or throws a CliError saying how it ended.
 */
export async function waitForBackfill(
  first: BackfillRun,
  read: (runId: string) => Promise<BackfillRun>,
  progress: BackfillProgress,
  intervalMs = 1_000,
): Promise<BackfillRun> {
  let run = first;
  let hinted = false;
  try {
    for (;;) {
      progress.update(run);
      if (run.state === 'completed') return run;
      if (run.state === 'failed') throw new CliError(`backfill run ${run.id} (${runRange(run)}) failed: ${run.error ?? 'no reason given'}; start it again with \`polaris meter backfill\``);
      if (run.state === 'superseded') {
        if (!run.supersededBy) throw new CliError(`backfill run ${run.id} was superseded: ${run.error ?? 'no reason given'}`);
        progress.note(`run ${run.id}: ${run.error ?? 'superseded'}; following run ${run.supersededBy}`);
        run = await read(run.supersededBy);
        continue;
      }
      if (run.state === 'queued' && !hinted) {
        progress.note(WAITING_HINT);
        hinted = true;
      }
      await sleep(intervalMs);
      run = await read(run.id);
    }
  } finally {
    progress.stop();
  }
}
