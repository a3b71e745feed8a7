import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';
import { withDatabase } from './with-database';

// `polaris webhook …`: an organization's webhook endpoints and their delivery log, through the
// rating-worker's polaris.v1.Webhooks (cli/src/notifications/). --org is an id or a slug.

const list = (text: string | undefined): string[] => (text ? text.split(',').map((s) => s.trim()).filter((s) => s !== '') : []);

function instant(text: string, flag: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new CliError(`${flag} takes an ISO 8601 instant (2026-08-01T12:00:00Z) or a day, not ${JSON.stringify(text)}`);
  return at;
}

export function registerWebhookCommands(program: Command, config: () => OperatorConfig): void {
  const webhook = program
    .command('webhook')
    .description("an organization's webhook endpoints and their deliveries, through the rating-worker (RATING_WORKER_GRPC_ADDR, INTERNAL_AUTH_SECRET)");

  /** Resolves --org, then runs the calls acting for it. */
  const run = async <T>(org: string, work: (call: import('../notifications/webhooks-client').WebhooksCall, organizationId: string) => Promise<T>): Promise<T> => {
    const { findOrganization } = await import('../identity/organizations');
    const { withWebhooks } = await import('../notifications/webhooks-client');
    const organization = await withDatabase(config(), (db) => findOrganization(db, org));
    return withWebhooks(config(), organization.id, (call) => work(call, organization.id));
  };
  const text = () => import('../notifications/webhook-text');

  webhook
    .command('create')
    .description('register an endpoint; prints its signing secret, shown this once')
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--url <url>', 'where to POST the events (https)')
    .option('--events <types>', 'comma-separated event types (default: every type)')
    .option('--description <text>', 'what the endpoint is for')
    .option('--alert-email <address>', 'told when the endpoint is disabled for failing')
    .option('--json', 'print JSON')
    .action(async (o: { org: string; url: string; events?: string; description?: string; alertEmail?: string; json?: boolean }) => {
      const created = await run(o.org, (call, organizationId) =>
        call((c) => c.createEndpoint.bind(c), { organizationId, url: o.url, eventTypes: list(o.events), description: o.description ?? '', alertEmail: o.alertEmail ?? '' }),
      );
      const { endpointText } = await text();
      console.log(o.json ? JSON.stringify(created) : `${created.endpoint ? endpointText(created.endpoint) : ''}\nsecret (shown once): ${created.secret}`);
    });

  webhook
    .command('list')
    .description("list the organization's endpoints")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (o: { org: string; json?: boolean }) => {
      const { endpoints } = await run(o.org, (call, organizationId) => call((c) => c.listEndpoints.bind(c), { organizationId }));
      const { endpointText } = await text();
      console.log(o.json ? JSON.stringify(endpoints) : endpoints.length === 0 ? 'no endpoints' : endpoints.map(endpointText).join('\n'));
    });

  webhook
    .command('update')
    .description('change an endpoint; --enable brings back one disabled for failing')
    .argument('<endpoint-id>')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--url <url>')
    .option('--events <types>', "comma-separated event types; 'all' for every type")
    .option('--description <text>')
    .option('--alert-email <address>', "'' clears it")
    .option('--enable', 'enable the endpoint (its failure clock restarts)')
    .option('--disable', 'stop sending to it')
    .option('--json', 'print JSON')
    .action(async (endpointId: string, o: { org: string; url?: string; events?: string; description?: string; alertEmail?: string; enable?: boolean; disable?: boolean; json?: boolean }) => {
      if (o.enable && o.disable) throw new CliError('--enable and --disable exclude each other');
      const updated = await run(o.org, (call, organizationId) =>
        call((c) => c.updateEndpoint.bind(c), {
          organizationId,
          endpointId,
          ...(o.url !== undefined ? { url: o.url } : {}),
          ...(o.events !== undefined ? { eventTypes: { eventTypes: o.events === 'all' ? [] : list(o.events) } } : {}),
          ...(o.description !== undefined ? { description: o.description } : {}),
          ...(o.alertEmail !== undefined ? { alertEmail: o.alertEmail } : {}),
          ...(o.enable ? { enabled: true } : o.disable ? { enabled: false } : {}),
        }),
      );
      const { endpointText } = await text();
      console.log(o.json ? JSON.stringify(updated) : endpointText(updated));
    });

  for (const [name, what] of [
    ['delete', 'delete an endpoint with its delivery log'],
    ['rotate-secret', 'give an endpoint a new secret (printed once); the old one still signs for 24 hours'],
  ] as const) {
    webhook
      .command(name)
      .description(what)
      .argument('<endpoint-id>')
      .requiredOption('--org <org>', 'organization id or slug')
      .option('--json', 'print JSON')
      .action(async (endpointId: string, o: { org: string; json?: boolean }) => {
        const { endpointText } = await text();
        if (name === 'delete') {
          const deleted = await run(o.org, (call, organizationId) => call((c) => c.deleteEndpoint.bind(c), { organizationId, endpointId }));
          console.log(o.json ? JSON.stringify(deleted) : `deleted\n${endpointText(deleted)}`);
          return;
        }
        const rotated = await run(o.org, (call, organizationId) => call((c) => c.rotateSecret.bind(c), { organizationId, endpointId }));
        console.log(o.json ? JSON.stringify(rotated) : `new secret (shown once): ${rotated.secret}`);
      });
  }

  webhook
    .command('deliveries')
    .description('the delivery log, newest first')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--endpoint <id>', "only this endpoint's")
    .option('--status <status>', 'pending, delivered or failed')
    .option('--event-type <type>')
    .option('--from <instant>', 'created at or after')
    .option('--to <instant>', 'created before')
    .option('--limit <n>', 'at most this many (default 50, at most 500)')
    .option('--json', 'print JSON')
    .action(async (o: { org: string; endpoint?: string; status?: string; eventType?: string; from?: string; to?: string; limit?: string; json?: boolean }) => {
      const page = await run(o.org, (call, organizationId) =>
        call((c) => c.listDeliveries.bind(c), {
          organizationId,
          endpointId: o.endpoint ?? '',
          status: o.status ?? '',
          eventType: o.eventType ?? '',
          ...(o.from ? { createdFrom: instant(o.from, '--from') } : {}),
          ...(o.to ? { createdTo: instant(o.to, '--to') } : {}),
          pageSize: o.limit ? Number(o.limit) : 0,
          pageToken: '',
        }),
      );
      const { deliveriesText } = await text();
      console.log(o.json ? JSON.stringify(page.deliveries) : deliveriesText(page.deliveries));
    });

  webhook
    .command('delivery')
    .description('one delivery with every attempt')
    .argument('<delivery-id>')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (deliveryId: string, o: { org: string; json?: boolean }) => {
      const found = await run(o.org, (call, organizationId) => call((c) => c.getDelivery.bind(c), { organizationId, deliveryId }));
      const { deliveryText } = await text();
      console.log(o.json ? JSON.stringify(found) : deliveryText(found));
    });

  webhook
    .command('replay')
    .description('send one delivery again (same webhook-id), or with --from/--to every delivery created in that range')
    .argument('[delivery-id]')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--from <instant>', 'range start (with --to, instead of a delivery id)')
    .option('--to <instant>', 'range end (exclusive)')
    .option('--endpoint <id>', "range: only this endpoint's")
    .option('--status <status>', 'range: only pending, delivered or failed ones')
    .action(async (deliveryId: string | undefined, o: { org: string; from?: string; to?: string; endpoint?: string; status?: string }) => {
      if (deliveryId) {
        if (o.from || o.to) throw new CliError('give a delivery id or --from/--to, not both');
        const replayed = await run(o.org, (call, organizationId) => call((c) => c.replayDelivery.bind(c), { organizationId, deliveryId }));
        console.log(`delivery ${replayed.id} queued again (webhook-id ${replayed.webhookId})`);
        return;
      }
      if (!o.from || !o.to) throw new CliError('replay needs a delivery id, or --from and --to');
      const { replayed } = await run(o.org, (call, organizationId) =>
        call((c) => c.replayDeliveries.bind(c), { organizationId, createdFrom: instant(o.from ?? '', '--from'), createdTo: instant(o.to ?? '', '--to'), endpointId: o.endpoint ?? '', status: o.status ?? '' }),
      );
      console.log(`${replayed} deliveries queued again`);
    });
}
