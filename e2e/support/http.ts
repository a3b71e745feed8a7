import { randomUUID } from 'node:crypto';
import { collectorUrl, gatewayUrl } from './ports';

/** Every request has a deadline: a hang fails the test instead of stalling the suite. */
const REQUEST_DEADLINE_MS = 20_000;

export async function postEvents(apiKey: string | undefined, body: unknown, contentType = 'application/cloudevents+json', url = collectorUrl) {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    headers: { 'content-type': contentType, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string; field?: string } }>;
}

export async function graphql<T>(apiKey: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    // The GraphQL-over-HTTP media type: request errors then come back with a 4xx status.
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...json };
}

export { eventually } from '@polaris/shared/testing';

export function cloudEvent(overrides: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: `evt-${randomUUID()}`,
    source: 'e2e-suite',
    type: 'api.request',
    subject: 'customer-1',
    time: new Date().toISOString(),
    data: { tokens: 7 },
    ...overrides,
  };
}
