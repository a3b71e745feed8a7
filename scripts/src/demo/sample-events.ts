import { randomUUID } from 'node:crypto';

const CUSTOMERS = ['acme', 'globex', 'initech'] as const;
const MODELS = ['small', 'large'] as const;
const ROUTES = ['/v1/search', '/v1/answer', '/v1/embed'] as const;
/** Users per customer: stable across runs, so a second demo run adds calls but no new users. */
const USERS_PER_CUSTOMER = 4;

/**
 * A few hours of plausible traffic for three customers, alternating API calls
 * (`api.request`: route, status, the user who called, latency) and LLM token usage
 * (`llm.tokens`: model, tokens). Ids are fresh per run, so each demo run adds usage instead of
 * being deduplicated away. The benches send the same traffic.
 */
export function sampleEvents(count: number, nowMs: number, spanMs = 6 * 3_600_000): Record<string, unknown>[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, i) => {
    const subject = CUSTOMERS[i % CUSTOMERS.length];
    const time = new Date(nowMs - spanMs + Math.floor((spanMs * i) / count)).toISOString();
    const base = { specversion: '1.0', id: `demo-${run}-${i}`, source: 'demo-app', subject, time };
    const pair = Math.floor(i / 2);
    return i % 2 === 0
      ? {
          ...base,
          type: 'api.request',
          data: { route: ROUTES[pair % ROUTES.length], status: 200, user: { id: `${subject}-user-${pair % USERS_PER_CUSTOMER}` }, latency_ms: 20 + ((i * 53) % 480) },
        }
      : { ...base, type: 'llm.tokens', data: { model: MODELS[pair % MODELS.length], tokens: 100 + ((i * 37) % 900) } };
  });
}

/**
 * Seats in use, one snapshot per customer per hour over the span (`seats.snapshot`: seats): a
 * gauge, for which only the latest value counts.
 */
export function seatSnapshots(nowMs: number, spanMs = 6 * 3_600_000): Record<string, unknown>[] {
  const run = randomUUID().slice(0, 8);
  const hours = Math.floor(spanMs / 3_600_000);
  return Array.from({ length: hours }, (_, h) =>
    CUSTOMERS.map((subject, c) => ({
      specversion: '1.0',
      id: `demo-seats-${run}-${h}-${subject}`,
      source: 'demo-app',
      type: 'seats.snapshot',
      subject,
      time: new Date(nowMs - spanMs + h * 3_600_000 + 60_000).toISOString(),
      data: { seats: 5 + c * 10 + h },
    })),
  ).flat();
}
