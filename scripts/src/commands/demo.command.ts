import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import type { DevConfig } from '../config';
import { repoRoot } from '../paths';
import { DEFAULT_PORTS, localSpecs, startServices } from '../services/launcher';

const DEMO_SLUG = 'demo';
const SAMPLE_EVENTS = 300;
const BATCH = 100;

async function post(url: string, key: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 202) throw new Error(`collector answered ${res.status}: ${await res.text()}`);
}

async function usage(gateway: string, key: string, from: string, to: string) {
  const res = await fetch(gateway, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `query($from: DateTime!, $to: DateTime!) {
        calls: usage(eventType: "api.request", from: $from, to: $to, groupBySubject: true) { rows { subject value } }
        tokens: usage(eventType: "llm.tokens", from: $from, to: $to, aggregation: SUM, valueProperty: "tokens", groupBySubject: true) { rows { subject value } }
      }`,
      variables: { from, to },
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const json = (await res.json()) as { data?: { calls: { rows: Array<{ subject: string; value: string }> }; tokens: { rows: Array<{ subject: string; value: string }> } } };
  return json.data;
}

/**
 * `polaris demo`: runs the four services on the default ports against the local stack, creates
 * the demo organization and a fresh API key, sends sample traffic (with a resent batch, to show
 * deduplication), prints where to look, and keeps running until Ctrl-C.
 */
export function registerDemoCommand(program: Command, config: () => DevConfig): void {
  program
    .command('demo')
    .description('run the whole system on the default ports with demo data (stack must be up and migrated)')
    .action(async () => {
      const cfg = config();
      const { apiKeys, organizations } = await import('@polaris/postgres');
      const { sampleEvents } = await import('../demo/sample-events');

      const db = new pg.Client({ connectionString: cfg.postgres.url });
      await db.connect();
      const { organization, key } = await (async () => {
        try {
          const org = (await organizations.findBySlug(db, DEMO_SLUG)) ?? (await organizations.create(db, { name: 'Demo Inc.', slug: DEMO_SLUG }));
          const name = `demo ${new Date().toISOString()}`;
          const created = await apiKeys.create(db, { organizationId: org.id, name, scopes: ['events:write', 'usage:read'] });
          return { organization: org, key: created.key };
        } finally {
          await db.end();
        }
      })();

      const logDir = path.join(cfg.stackDir, 'logs', 'services');
      console.log(`starting services (logs in ${logDir}) …`);
      const system = await startServices({ repoRoot, logDir, specs: localSpecs(DEFAULT_PORTS, { LOG_LEVEL: 'info' }) });
      const stop = async () => {
        console.log('\nstopping services …');
        try {
          await system.stop();
        } catch (err) {
          // A service that hung or exited non-zero on the way down is a bug worth seeing.
          console.error(err instanceof Error ? err.message : err);
          process.exit(1);
        }
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());

      const collector = `http://127.0.0.1:${DEFAULT_PORTS.collector}/v1/events`;
      const gateway = `http://127.0.0.1:${DEFAULT_PORTS.gateway}/graphql`;
      const now = Date.now();
      const from = new Date(now - 7 * 3_600_000).toISOString();
      const to = new Date(now + 60_000).toISOString();
      const calls = (r: Awaited<ReturnType<typeof usage>>) => (r?.calls.rows ?? []).reduce((n, row) => n + Number(row.value), 0);
      // Earlier demo runs may have left usage in the same range: wait for ours on top of it.
      const expected = calls(await usage(gateway, key, from, to)) + SAMPLE_EVENTS / 2;

      const events = sampleEvents(SAMPLE_EVENTS, now);
      for (let i = 0; i < events.length; i += BATCH) await post(collector, key, events.slice(i, i + BATCH));
      await post(collector, key, events.slice(0, BATCH)); // a client retry: must change nothing

      let result = await usage(gateway, key, from, to);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && calls(result) < expected) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        result = await usage(gateway, key, from, to);
      }

      console.log(`
Polaris is running with demo data.

  organization  ${organization.slug} (${organization.id})
  API key       ${key}     (shown once; create more with: npx polaris api-key create --org demo)

  GraphQL       ${gateway}   (GraphiQL in a browser)
  Collector     ${collector}
  Metrics       http://127.0.0.1:${DEFAULT_PORTS.ops.gateway}/metrics (gateway), :${DEFAULT_PORTS.ops.collector} collector, :${DEFAULT_PORTS.ops['sink-worker']} sink-worker, :${DEFAULT_PORTS.ops['rating-worker']} rating-worker
  Logs          ${logDir}

Sent ${SAMPLE_EVENTS} events over the last 6 hours, then resent the first ${BATCH} (deduplicated).
Usage over that range, read back through gateway → Usage gRPC → ClickHouse:
${(result?.calls.rows ?? []).map((r) => `  api.request  ${r.subject.padEnd(8)} ${r.value.padStart(6)} calls`).join('\n')}
${(result?.tokens.rows ?? []).map((r) => `  llm.tokens   ${r.subject.padEnd(8)} ${r.value.padStart(6)} tokens`).join('\n')}

Try:
  curl -s -X POST ${collector} \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/cloudevents+json' \\
    -d '{"specversion":"1.0","id":"my-first-event","source":"curl","type":"api.request","subject":"acme","data":{}}'

  curl -s -X POST ${gateway} -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"query":"{ me { name } usage(eventType: \\"api.request\\", from: \\"${from}\\", to: \\"${to}\\", groupBySubject: true) { rows { subject value } } }"}'

Press Ctrl-C to stop the services (the stack keeps running; npx polaris stack down stops it).`);
    });
}
