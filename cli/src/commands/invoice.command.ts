import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';
import { withDatabase } from './with-database';

const DEFAULT_LIMIT = 100;

function parseLimit(text: string): number {
  const limit = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (limit < 1) throw new CliError(`--limit takes a number of invoices, 1 or more, not ${JSON.stringify(text)}`);
  return limit;
}

export function registerInvoiceCommands(program: Command, config: () => OperatorConfig): void {
  const invoice = program
    .command('invoice')
    .description(
      "see and act on an organization's invoices; recompute, finalize and upcoming ask the rating-worker " +
        '(RATING_WORKER_GRPC_ADDR, INTERNAL_AUTH_SECRET), the others read PostgreSQL',
    );

  invoice
    .command('list')
    .description("list an organization's invoices, newest first, without their lines")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--customer <external-id>', "only this customer's")
    .option('--subscription <id>', "only this subscription's")
    .option('--status <status>', 'draft, finalized, paid or void')
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT})`)
    .option('--json', 'print JSON')
    .action(async (options: { org: string; customer?: string; subscription?: string; status?: string; limit?: string; json?: boolean }) => {
      const { listInvoices } = await import('../billing/invoice-actions');
      const { invoicesText } = await import('../billing/invoice-text');
      const limit = options.limit === undefined ? DEFAULT_LIMIT : parseLimit(options.limit);
      const { organization, invoices } = await withDatabase(config(), (db) =>
        listInvoices(db, {
          org: options.org,
          limit,
          ...(options.customer !== undefined ? { customer: options.customer } : {}),
          ...(options.subscription !== undefined ? { subscription: options.subscription } : {}),
          ...(options.status !== undefined ? { status: options.status } : {}),
        }),
      );
      console.log(options.json ? JSON.stringify(invoices) : invoicesText(organization, invoices));
    });

  invoice
    .command('get')
    .description('show an invoice: its lines, totals and history')
    .argument('<invoice-id>', 'the invoice')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (invoiceId: string, options: { org: string; json?: boolean }) => {
      const { getInvoice } = await import('../billing/invoice-actions');
      const { invoiceText } = await import('../billing/invoice-text');
      const { organization, invoice: found } = await withDatabase(config(), (db) => getInvoice(db, { org: options.org, invoiceId }));
      console.log(options.json ? JSON.stringify(found) : invoiceText(organization, found));
    });

  for (const action of ['recompute', 'finalize'] as const) {
    invoice
      .command(action)
      .description(
        action === 'recompute'
          ? 'rate a draft again from the stored usage (the same usage gives the same lines)'
          : 'recompute a draft one last time, number it and freeze it (a finalized invoice never changes)',
      )
      .argument('<invoice-id>', 'the draft')
      .requiredOption('--org <org>', 'organization id or slug')
      .option('--json', 'print JSON')
      .action(async (invoiceId: string, options: { org: string; json?: boolean }) => {
        const { rateInvoice } = await import('../billing/invoice-actions');
        const { invoiceText } = await import('../billing/invoice-text');
        const { organization, invoice: rated } = await withDatabase(config(), (db) => rateInvoice(db, config(), { org: options.org, invoiceId, action }));
        console.log(options.json ? JSON.stringify(rated) : `invoice ${action === 'recompute' ? 'recomputed' : 'finalized'}\n${invoiceText(organization, rated)}`);
      });
  }

  for (const [name, to, what] of [
    ['pay', 'paid', 'mark a finalized invoice paid'],
    ['void', 'void', 'void a draft or a finalized invoice (its period is then never adjusted)'],
  ] as const) {
    invoice
      .command(name)
      .description(what)
      .argument('<invoice-id>', 'the invoice')
      .requiredOption('--org <org>', 'organization id or slug')
      .option('--json', 'print JSON')
      .action(async (invoiceId: string, options: { org: string; json?: boolean }) => {
        const { changeInvoiceStatus } = await import('../billing/invoice-actions');
        const { invoiceText } = await import('../billing/invoice-text');
        const { organization, invoice: changed } = await withDatabase(config(), (db) => changeInvoiceStatus(db, { org: options.org, invoiceId, to }));
        console.log(options.json ? JSON.stringify(changed) : `invoice ${to}\n${invoiceText(organization, changed)}`);
      });
  }

  invoice
    .command('upcoming')
    .description("estimate a customer's current period so far, as its invoice will rate it (nothing is stored)")
    .argument('<customer>', "the customer's external id")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (customer: string, options: { org: string; json?: boolean }) => {
      const { upcomingInvoice } = await import('../billing/invoice-actions');
      const { invoiceText } = await import('../billing/invoice-text');
      const { organization, invoice: estimate } = await withDatabase(config(), (db) => upcomingInvoice(db, config(), { org: options.org, customer }));
      console.log(options.json ? JSON.stringify(estimate) : invoiceText(organization, estimate));
    });
}
