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
  const deadLetter = program.command('dead-letter').description('inspect the dead-letter topic; move a stuck consumer group past one message');
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
    .description('the newest dead letters: source, reason, detail, time and size; never their contents')
    .option('--dlq <name>', 'dead-letter topic', EVENTS_DLQ_TOPIC)
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--json', 'print JSON')
    .action(async (options: { dlq: string; limit: number; json?: boolean }) => {
      const { listDeadLetters, deadLettersJson, deadLettersText } = await import('../dead-letter/dead-letter-list');
      const letters = await listDeadLetters({ connection: config().kafka, dlq: options.dlq, limit: options.limit });
      console.log(options.json ? deadLettersJson(letters) : deadLettersText(options.dlq, letters));
    });
}
