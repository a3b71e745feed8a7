import { hostname, userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { EVENTS_DLQ_TOPIC, EVENTS_TOPIC } from '@polaris/shared/contracts';
import type { OperatorConfig } from '../config';

/** The sink-worker's consumer group (its KAFKA_GROUP_ID default). */
const SINK_GROUP = 'polaris-sink';

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

function positiveInteger(value: string): number {
  const n = nonNegativeInteger(value);
  if (n === 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function registerDeadLetterCommands(program: Command, config: () => OperatorConfig): void {
  const deadLetter = program
    .command('dlq')
    .alias('dead-letter')
    .description('the dead-letter topic: list, show and replay dead letters; move a stuck consumer group past one message');
  deadLetter
    .command('skip')
    .description(
      'copy ONE message to the dead-letter topic, then move the group past it. Refuses unless the group has no ' +
        'active members and its committed offset for the partition is exactly --offset',
    )
    .requiredOption('--partition <n>', 'partition of the topic', nonNegativeInteger)
    .requiredOption('--offset <n>', "the message to skip: the group's committed offset on that partition")
    .option('--group <id>', 'consumer group', SINK_GROUP)
    .option('--topic <name>', 'topic the group consumes', EVENTS_TOPIC)
    .option('--dlq <name>', 'dead-letter topic', EVENTS_DLQ_TOPIC)
    .option('--reason <text>', 'why; stored as the polaris-dlq-detail header of the copy')
    .action(async (options: { partition: number; offset: string; group: string; topic: string; dlq: string; reason?: string }) => {
      const { skipMessage } = await import('../dead-letter/dead-letter-skip');
      const done = await skipMessage({
        connection: config().kafka,
        partition: options.partition,
        offset: options.offset,
        group: options.group,
        topic: options.topic,
        dlq: options.dlq,
        ...(options.reason !== undefined ? { detail: options.reason } : {}),
      });
      console.log(`skipped ${done.topic} partition ${done.partition} offset ${done.offset} (${done.size} bytes) for group ${done.group}`);
      console.log(`  copy:      ${done.dlq.topic} partition ${done.dlq.partition} offset ${done.dlq.offset} (reason ${done.reason}: ${done.detail})`);
      console.log(`  committed: ${done.committed}; the group resumes there when its consumers start again`);
      // The audit line, JSON like every Polaris log, on stderr so stdout stays the summary above.
      console.error(
        JSON.stringify({
          level: 'info',
          time: new Date().toISOString(),
          service: 'polaris-cli',
          msg: 'dead-letter skip',
          operator: operator(),
          host: hostname(),
          group: done.group,
          topic: done.topic,
          partition: done.partition,
          offset: done.offset,
          committed: done.committed,
          dlq: done.dlq,
          reason: done.reason,
          detail: done.detail,
          size: done.size,
        }),
      );
    });
  deadLetter
    .command('list')
    .description('the newest dead letters: source, reason, organization, replays, detail, time and size; never their contents')
    .option('--dlq <name>', 'dead-letter topic', EVENTS_DLQ_TOPIC)
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--reason <code>', 'only this reason (invalid_json, invalid_schema, invalid_event, store_rejected, handler_error, operator_skip)')
    .option('--org <id>', 'only dead letters of this organization')
    .option('--json', 'print JSON')
    .action(async (options: { dlq: string; limit: number; reason?: string; org?: string; json?: boolean }) => {
      const { listDeadLetters, deadLettersJson, deadLettersText } = await import('../dead-letter/dead-letter-list');
      const letters = await listDeadLetters({
        connection: config().kafka,
        dlq: options.dlq,
        limit: options.limit,
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
        ...(options.org !== undefined ? { organizationId: options.org } : {}),
      });
      console.log(options.json ? deadLettersJson(letters) : deadLettersText(options.dlq, letters));
    });
  deadLetter
    .command('show')
    .description('dead letters whole: reason, source, replays, the original key and headers, and the value exactly (base64, and a UTF-8 preview)')
    .argument('<letters...>', 'dead letters as <partition>/<offset> (as `dlq list` prints them)')
    .option('--dlq <name>', 'dead-letter topic', EVENTS_DLQ_TOPIC)
    .option('--org <id>', 'refuse unless every one is of this organization')
    .option('--json', 'print JSON (bytes as base64)')
    .action(async (names: string[], options: { dlq: string; org?: string; json?: boolean }) => {
      const { parseDeadLetterId } = await import('../dead-letter/dead-letter');
      const { showDeadLetters, deadLetterJson, deadLetterText } = await import('../dead-letter/dead-letter-show');
      const letters = await showDeadLetters({
        connection: config().kafka,
        dlq: options.dlq,
        ids: names.map(parseDeadLetterId),
        ...(options.org !== undefined ? { organizationId: options.org } : {}),
      });
      console.log(options.json ? JSON.stringify(letters.map(deadLetterJson)) : letters.map((l) => deadLetterText(options.dlq, l)).join('\n\n'));
    });
  deadLetter
    .command('replay')
    .description(
      're-send dead letters to the events topic after a fix, byte for byte under their original key (the sink stores each event once, ' +
        'so running it twice is safe), and record each replay in the dead-letter topic. Letters already replayed are skipped unless --again',
    )
    .argument('[letters...]', 'dead letters as <partition>/<offset>')
    .option('--reason <code>', 'every dead letter of this reason')
    .option('--org <id>', 'only dead letters of this organization')
    .option('--all', 'every dead letter (when no letter, --reason or --org is given)')
    .option('--again', 'replay letters already replayed too')
    .option('--dry-run', 'only list what would be replayed')
    .option('--topic <name>', 'topic to send the copies to', EVENTS_TOPIC)
    .option('--dlq <name>', 'dead-letter topic', EVENTS_DLQ_TOPIC)
    .option('--json', 'print JSON')
    .action(
      async (
        names: string[],
        options: { reason?: string; org?: string; all?: boolean; again?: boolean; dryRun?: boolean; topic: string; dlq: string; json?: boolean },
      ) => {
        const { formatDeadLetterId, parseDeadLetterId } = await import('../dead-letter/dead-letter');
        const { replayDeadLetters } = await import('../dead-letter/dead-letter-replay');
        const by = `${operator()}@${hostname()}`;
        const result = await replayDeadLetters({
          connection: config().kafka,
          dlq: options.dlq,
          topic: options.topic,
          selection: {
            ids: names.map(parseDeadLetterId),
            ...(options.reason !== undefined ? { reason: options.reason } : {}),
            ...(options.org !== undefined ? { organizationId: options.org } : {}),
          },
          all: options.all ?? false,
          again: options.again ?? false,
          dryRun: options.dryRun ?? false,
          operator: by,
        });
        if (options.json) {
          console.log(
            JSON.stringify({
              dryRun: options.dryRun ?? false,
              replayed: result.replayed.map((r) => ({ letter: formatDeadLetterId(r.letter), reason: r.reason, ...(r.to ? { to: `${options.topic}/${r.to.partition}/${r.to.offset}` } : {}) })),
              alreadyReplayed: result.alreadyReplayed.map(formatDeadLetterId),
            }),
          );
        } else {
          const verb = options.dryRun ? 'would replay' : 'replayed';
          console.log(`${verb} ${result.replayed.length} dead letter(s) of ${options.dlq} to ${options.topic}`);
          for (const r of result.replayed) console.log(`  ${formatDeadLetterId(r.letter)} (${r.reason})${r.to ? ` -> ${options.topic}/${r.to.partition}/${r.to.offset}` : ''}`);
          if (result.alreadyReplayed.length > 0) console.log(`skipped ${result.alreadyReplayed.length} already replayed (--again to replay them too): ${result.alreadyReplayed.map(formatDeadLetterId).join(' ')}`);
        }
        if (!options.dryRun && result.replayed.length > 0) {
          // The audit line, as for skip: JSON on stderr.
          console.error(
            JSON.stringify({
              level: 'info',
              time: new Date().toISOString(),
              service: 'polaris-cli',
              msg: 'dead-letter replay',
              operator: operator(),
              host: hostname(),
              dlq: options.dlq,
              topic: options.topic,
              letters: result.replayed.map((r) => formatDeadLetterId(r.letter)),
            }),
          );
        }
      },
    );
}
