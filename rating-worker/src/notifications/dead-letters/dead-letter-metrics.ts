import { Counter, type Registry } from 'prom-client';

// The dead-letter watcher on the service's Prometheus registry: every dead letter it reads, by
// reason; those it could give to no organization; and the dead_letters.growing alerts.

export type AlertOutcome = 'recorded' | 'already_recorded' | 'unknown_organization';

export interface DeadLetterMetrics {
  seen(reason: string): void;
  unattributed(reason: string): void;
  alert(outcome: AlertOutcome): void;
}

/** The reason codes of the contract are short snake_case words; anything else is one label, so a stray header cannot grow the series. */
const reasonLabel = (reason: string): string => (/^[a-z_]{1,40}$/.test(reason) ? reason : 'other');

export function createDeadLetterMetrics(registry: Registry): DeadLetterMetrics {
  const seen = new Counter({
    name: 'dead_letters_seen_total',
    help: 'Dead letters read by the watcher, by reason (polaris-dlq-reason); re-reads after a restart count again',
    labelNames: ['reason'],
    registers: [registry],
  });
  const unattributed = new Counter({
    name: 'dead_letters_unattributed_total',
    help: 'Dead letters naming no organization to trust (unreadable key, key and value disagreeing): counted for no one',
    labelNames: ['reason'],
    registers: [registry],
  });
  const alerts = new Counter({
    name: 'dead_letter_alerts_total',
    help: 'dead_letters.growing alerts, by outcome: recorded (new in the outbox) | already_recorded (a re-read) | unknown_organization',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    seen: (reason) => seen.inc({ reason: reasonLabel(reason) }),
    unattributed: (reason) => unattributed.inc({ reason: reasonLabel(reason) }),
    alert: (outcome) => alerts.inc({ outcome }),
  };
}
