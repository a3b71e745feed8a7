import { randomUUID } from 'node:crypto';

const CUSTOMERS = ['acme', 'globex', 'initech'] as const;
const MODELS = ['small', 'large'] as const;
const ROUTES = ['/v1/search', '/v1/answer', '/v1/embed'] as const;

/**
 * A few hours of plausible traffic: API calls and LLM token usage for three customers. Ids are
 * fresh per run, so each demo run adds usage instead of being deduplicated away.
 */
export function sampleEvents(count: number, nowMs: number, spanMs = 6 * 3_600_000): Record<string, unknown>[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, i) => {
    const subject = CUSTOMERS[i % CUSTOMERS.length];
    const time = new Date(nowMs - spanMs + Math.floor((spanMs * i) / count)).toISOString();
    const base = { specversion: '1.0', id: `demo-${run}-${i}`, source: 'demo-app', subject, time };
    return i % 2 === 0
      ? { ...base, type: 'api.request', data: { route: ROUTES[i % ROUTES.length], status: 200 } }
      : { ...base, type: 'llm.tokens', data: { model: MODELS[i % MODELS.length], tokens: 100 + ((i * 37) % 900) } };
  });
}
