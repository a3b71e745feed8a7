import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

export function registerOrgCommands(program: Command, config: () => OperatorConfig): void {
  const org = program.command('org').description('manage organizations (tenants)');
  org
    .command('create')
    .description('create an organization')
    .requiredOption('--name <name>', 'display name')
    .option('--slug <slug>', 'URL-safe id, [a-z0-9-]; derived from the name when omitted')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; slug?: string; json?: boolean }) => {
      const { createOrganization } = await import('../identity/organizations');
      const created = await withDatabase(config(), (db) =>
        createOrganization(db, { name: options.name, ...(options.slug ? { slug: options.slug } : {}) }),
      );
      // Fields picked by name, as in every listing: the output stays what it was as the row grows.
      if (options.json) console.log(JSON.stringify({ id: created.id, slug: created.slug, name: created.name }));
      else console.log(`organization created\n  id:   ${created.id}\n  slug: ${created.slug}\n  name: ${created.name}`);
    });
  org
    .command('list')
    .description('list organizations')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listOrganizations } = await import('../identity/organizations');
      const { organizationsJson, organizationsText } = await import('../identity/listing');
      const organizations = await withDatabase(config(), (db) => listOrganizations(db));
      console.log(options.json ? organizationsJson(organizations) : organizationsText(organizations));
    });
  org
    .command('limits <org>')
    .description("show or set an organization's own limit on the events it sends (else the collectors' default applies)")
    .option('--events-per-second <n>', 'average rate allowed, in events per second')
    .option('--burst <n>', 'the most events in any one second (at least the rate; default: the rate)')
    .option('--clear', 'remove the organization\'s own limit: the default applies again')
    .option('--json', 'print JSON')
    .action(async (orgArg: string, options: { eventsPerSecond?: string; burst?: string; clear?: boolean; json?: boolean }) => {
      const { applyLimitsChange, limitsChange, limitsJson, limitsText } = await import('../identity/organization-limits');
      const change = limitsChange(options);
      const result = await withDatabase(config(), (db) => applyLimitsChange(db, orgArg, change));
      console.log(options.json ? limitsJson(result) : limitsText(result, change));
    });
}
