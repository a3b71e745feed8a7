import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The definition flags, shared by `create` and `update`. */
function definitionOptions(command: Command, required: boolean): Command {
  const option = required ? command.requiredOption.bind(command) : command.option.bind(command);
  option('--event-type <type>', 'the CloudEvents type to count, e.g. llm.completion');
  option('--aggregation <aggregation>', 'SUM, COUNT, UNIQUE_COUNT, MIN, MAX, AVG or LATEST');
  return command
    .option('--value-path <path>', 'the number to aggregate (SUM, MIN, MAX, AVG, LATEST), e.g. $.usage.input_tokens')
    .option('--unique-path <path>', 'the key counted once (UNIQUE_COUNT), e.g. $.user_id')
    .option('--dimension <name=path>', 'a dimension to group by, e.g. model=$.model; repeat for more (at most 8, in order)', collect, []);
}

interface DefinitionOptions {
  eventType?: string;
  aggregation?: string;
  valuePath?: string;
  uniquePath?: string;
  dimension: string[];
}

export function registerMeterCommands(program: Command, config: () => OperatorConfig): void {
  const meter = program.command('meter').description("manage an organization's meters: what usage counts, and its backfills");

  definitionOptions(
    meter
      .command('create')
      .description('create a meter; it counts new events at once and backfills the stored ones')
      .argument('<slug>', 'the metric name in the API, [a-z][a-z0-9_]*, unique in the organization')
      .requiredOption('--org <org>', 'organization id or slug'),
    true,
  )
    .option('--name <name>', 'display name (default: the slug)')
    .option('--description <text>', 'what it measures, for people')
    .option('--backfill-from <day>', 'backfill only events from this UTC day on (default: the whole stored history)')
    .option('--json', 'print JSON')
    .action(async (slug: string, options: DefinitionOptions & { org: string; name?: string; description?: string; backfillFrom?: string; json?: boolean }) => {
      const { createMeter } = await import('../meters/meters');
      const { parseDay } = await import('../meters/meter-flags');
      const { meterJson, meterText } = await import('../meters/meter-listing');
      const { backfillFrom: day, ...flags } = options;
      const backfillFrom = day === undefined ? undefined : parseDay(day, '--backfill-from');
      const { organization, meter: created } = await withDatabase(config(), (db) =>
        createMeter(db, { ...flags, slug, ...(backfillFrom ? { backfillFrom } : {}) }),
      );
      console.log(options.json ? JSON.stringify(meterJson(created)) : `meter created\n${meterText(organization, created)}`);
    });

  meter
    .command('list')
    .description("list an organization's meters, by slug")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--all', 'include archived meters')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; all?: boolean; json?: boolean }) => {
      const { listMeters } = await import('../meters/meters');
      const { meterJson, metersText } = await import('../meters/meter-listing');
      const { organization, meters } = await withDatabase(config(), (db) => listMeters(db, { org: options.org, includeArchived: options.all === true }));
      console.log(options.json ? JSON.stringify(meters.map(meterJson)) : metersText(organization, meters));
    });

  meter
    .command('get')
    .description('show a meter: the version answering, one still backfilling, the latest backfill')
    .argument('<slug>', 'the meter')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (slug: string, options: { org: string; json?: boolean }) => {
      const { getMeter } = await import('../meters/meters');
      const { meterJson, meterText } = await import('../meters/meter-listing');
      const { organization, meter: found } = await withDatabase(config(), (db) => getMeter(db, { org: options.org, slug }));
      console.log(options.json ? JSON.stringify(meterJson(found)) : meterText(organization, found));
    });

  definitionOptions(
    meter
      .command('update')
      .description(
        'rename or redescribe a meter in place; a definition flag that changes what it measures makes a new version, ' +
          'backfilled while the current one keeps answering',
      )
      .argument('<slug>', 'the meter')
      .requiredOption('--org <org>', 'organization id or slug'),
    false,
  )
    .option('--clear-dimensions', 'drop every dimension')
    .option('--name <name>', 'new display name')
    .option('--description <text>', 'new description')
    .option('--json', 'print JSON')
    .action(async (slug: string, options: DefinitionOptions & { org: string; clearDimensions?: boolean; name?: string; description?: string; json?: boolean }) => {
      const { updateMeter } = await import('../meters/meters');
      const { meterJson, meterText } = await import('../meters/meter-listing');
      const { organization, meter: updated, newVersion } = await withDatabase(config(), (db) => updateMeter(db, { ...options, slug }));
      if (options.json) console.log(JSON.stringify(meterJson(updated)));
      else console.log(`${newVersion ? 'meter updated: a new version is backfilling' : 'meter updated'}\n${meterText(organization, updated)}`);
    });

  meter
    .command('archive')
    .description('archive a meter: new events are no longer counted; stored usage stays')
    .argument('<slug>', 'the meter')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (slug: string, options: { org: string; json?: boolean }) => {
      const { archiveMeter } = await import('../meters/meters');
      const { meterJson, meterText } = await import('../meters/meter-listing');
      const { organization, meter: archived } = await withDatabase(config(), (db) => archiveMeter(db, { org: options.org, slug }));
      console.log(options.json ? JSON.stringify(meterJson(archived)) : `meter archived\n${meterText(organization, archived)}`);
    });

  meter
    .command('backfill')
    .description("rebuild a meter's newest version from stored events: the whole history, or whole UTC days [--from, --to)")
    .argument('<slug>', 'the meter')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--from <day>', 'first UTC day, e.g. 2024-05-01 (default: the start of history)')
    .option('--to <day>', 'UTC day after the last one (default: now)')
    .option('--wait', 'wait for the run to end, showing its progress')
    .option('--json', 'print JSON (with --wait: the run once it ended)')
    .action(async (slug: string, options: { org: string; from?: string; to?: string; wait?: boolean; json?: boolean }) => {
      const { getBackfillRun, startBackfill } = await import('../meters/meters');
      const { parseDay } = await import('../meters/meter-flags');
      const { runJson, runSummary } = await import('../meters/meter-listing');
      const from = options.from === undefined ? undefined : parseDay(options.from, '--from');
      const to = options.to === undefined ? undefined : parseDay(options.to, '--to');
      await withDatabase(config(), async (db) => {
        const { organization, run } = await startBackfill(db, { org: options.org, slug, ...(from ? { from } : {}), ...(to ? { to } : {}) });
        if (!options.wait) {
          console.log(options.json ? JSON.stringify(runJson(run)) : `backfill queued: ${runSummary(run)}`);
          return;
        }
        const { barProgress, lineProgress, waitForBackfill } = await import('../meters/backfill-wait');
        if (!options.json) console.log(`backfill queued: ${runSummary(run)}`);
        const progress = process.stderr.isTTY ? barProgress() : lineProgress();
        const ended = await waitForBackfill(run, (runId) => getBackfillRun(db, organization.id, runId), progress);
        console.log(options.json ? JSON.stringify(runJson(ended)) : `backfill completed: ${runSummary(ended)}`);
      });
    });
}
