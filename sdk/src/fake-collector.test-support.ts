import type { FetchLike } from './types.js';

/** One scripted answer: a status with an optional JSON body and headers, or a network failure. */
export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export type FakeAnswer = FakeReply | 'network error';

export interface FakeRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  events: Array<{ id: string; source: string; type: string; subject: string; time: string; data?: unknown }>;
}

/**
 * A stand-in for the collector's HTTP answers (the client's transport, not a store): records every
 * request and answers with `answer(request, index)`; 202 by default.
 */
export function fakeCollector(answer: (request: FakeRequest, index: number) => FakeAnswer | Promise<FakeAnswer> = () => ({ status: 202 })) {
  const requests: FakeRequest[] = [];
  const fetch: FetchLike = async (url, init) => {
    const request = { url, body: init.body, headers: init.headers, events: JSON.parse(init.body) as FakeRequest['events'] };
    requests.push(request);
    const answered = await answer(request, requests.length - 1);
    if (answered === 'network error') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    const headers = Object.fromEntries(Object.entries(answered.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const body = answered.status === 202 ? { accepted: request.events.length } : answered.body;
    return { status: answered.status, headers: { get: (name: string) => headers[name.toLowerCase()] ?? null }, text: async () => JSON.stringify(body ?? {}) };
  };
  return { fetch, requests, ids: () => requests.map((r) => r.events.map((e) => e.id)) };
}

export const refusal = (status: number, code: string, field?: string, message = `${field ?? 'request'}: refused`): FakeReply => ({
  status,
  body: { error: { code, message, ...(field ? { field } : {}) } },
});
