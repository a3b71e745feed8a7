import { Counter, Histogram, type Registry } from 'prom-client';

// The threshold evaluation on the service's Prometheus registry: what each threshold check
// concluded, the firings, and how late an evaluation finished after it was scheduled (the lag a
// crossing can wait beyond the interval).

export type EvaluationOutcome = 'below' | 'fired' | 'already_fired' | 'read_failed' | 'no_limit';

export interface ThresholdMetrics {
  evaluated(outcome: EvaluationOutcome): void;
  runFinished(outcome: 'completed' | 'failed', lagSeconds: number): void;
}

export function createThresholdMetrics(registry: Registry): ThresholdMetrics {
  const evaluations = new Counter({
    name: 'usage_threshold_evaluations_total',
    help: 'Threshold checks (one threshold in one period), by outcome: below | fired | already_fired | read_failed | no_limit',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const firings = new Counter({
    name: 'usage_threshold_firings_total',
    help: 'Usage thresholds fired (each once per billing period), with their usage.threshold_crossed event',
    registers: [registry],
  });
  const runs = new Counter({
    name: 'usage_threshold_evaluation_runs_total',
    help: 'Evaluation runs of the usage-thresholds job scheduler, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'usage_threshold_evaluation_lag_seconds',
    help: 'From the time an evaluation was scheduled to the end of its run: how long a crossing waits beyond the interval',
    registers: [registry],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300],
  });
  return {
    evaluated: (outcome) => {
      evaluations.inc({ outcome });
      if (outcome === 'fired') firings.inc();
    },
    runFinished: (outcome, lagSeconds) => {
      runs.inc({ outcome });
      lag.observe(lagSeconds);
    },
  };
}
