import { PolarisClient, type DeliveryProblem, type TrackEvent } from '@polaris/sdk';

/** The sample events are CloudEvents as the benches post them; the client takes their attributes. */
function trackEventOf(event: Record<string, unknown>): TrackEvent {
  const text = (name: string): string => {
    const value = event[name];
    if (typeof value !== 'string') throw new Error(`sample event without a string ${name}: ${JSON.stringify(event)}`);
    return value;
  };
  return { id: text('id'), source: text('source'), type: text('type'), subject: text('subject'), time: text('time'), data: event.data as Record<string, unknown> };
}

const describeProblem = (problem: DeliveryProblem): string =>
  problem.kind === 'rejected'
    ? problem.rejected.map((r) => `${r.code}${r.field ? ` (${r.field})` : ''}: ${r.message}`).join('; ')
    : `${problem.events.length} undelivered: ${problem.reason}`;

/**
 * Sends the demo's events through @polaris/sdk, as a customer's app would: each one tracked, the
 * client batching and retrying, then the first `resend` of them tracked again with the same ids
 * (a client retry: stored once). Throws if the collector refused any, or could not take them.
 */
export async function sendDemoEvents(collectorUrl: string, apiKey: string, events: readonly Record<string, unknown>[], resend: number): Promise<void> {
  const problems: string[] = [];
  const client = new PolarisClient({ url: collectorUrl, apiKey, onError: (problem) => problems.push(describeProblem(problem)) });
  for (const event of [...events, ...events.slice(0, resend)]) client.track(trackEventOf(event));
  await client.close();
  if (client.stats().rejected > 0) throw new Error(`the collector refused demo events: ${problems.join('; ')}`);
}
