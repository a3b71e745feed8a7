import type { Command } from 'commander';
import pg from 'pg';
import type { CliConfig } from '../config';

async function withDatabase<T>(config: CliConfig, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: config.postgres.url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

export function registerAdminCommands(program: Command, config: () => CliConfig): void {
  const org = program.command('org').description('manage organizations (tenants)');
  org
    .command('create')
    .description('create an organization')
    .requiredOption('--name <name>', 'display name')
    .option('--slug <slug>', 'URL-safe id, [a-z0-9-]; derived from the name when omitted')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; slug?: string; json?: boolean }) => {
      const { createOrganization } = await import('../admin/organizations');
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
      const { listOrganizations } = await import('../admin/organizations');
      const { organizationsJson, organizationsText } = await import('../admin/listing');
      const organizations = await withDatabase(config(), (db) => listOrganizations(db));
      console.log(options.json ? organizationsJson(organizations) : organizationsText(organizations));
    });

  const apiKey = program.command('api-key').description('manage API keys');
  apiKey
    .command('create')
    .description('create an API key for an organization; the key is printed once')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--name <name>', 'label shown in listings', 'default')
    .option('--scopes <scopes>', 'comma-separated scopes', 'events:write,usage:read')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; name: string; scopes: string; json?: boolean }) => {
      // Loaded on use: key generation comes from @polaris/shared, which `stack` does not need.
      const { parseScopes } = await import('../admin/api-key');
      const { createApiKey } = await import('../admin/api-keys.repository');
      const scopes = parseScopes(options.scopes);
      const created = await withDatabase(config(), (db) => createApiKey(db, { org: options.org, name: options.name, scopes }));
      if (options.json) {
        console.log(
          JSON.stringify({ id: created.id, orgId: created.organization.id, name: created.name, prefix: created.prefix, scopes: created.scopes, key: created.key }),
        );
        return;
      }
      console.log(`API key ${created.prefix} (${created.scopes.join(', ')}) for ${created.organization.slug} (${created.organization.id}):`);
      console.log(created.key);
      console.log('Store it now: it is shown once, only its sha256 is kept.');
    });
  apiKey
    .command('list')
    .description("list an organization's API keys, revoked ones included; never shows a secret")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; json?: boolean }) => {
      const { listApiKeys } = await import('../admin/api-keys.repository');
      const { apiKeysJson, apiKeysText } = await import('../admin/listing');
      const { organization, keys } = await withDatabase(config(), (db) => listApiKeys(db, options.org));
      console.log(options.json ? apiKeysJson(keys) : apiKeysText(organization, keys));
    });
  apiKey
    .command('revoke')
    .description('revoke an API key by its prefix; revoking twice is harmless')
    .requiredOption('--prefix <prefix>', 'the key prefix, pol_xxxxxxxx (as shown by `api-key list`)')
    .option('--org <org>', 'organization id or slug the key must belong to; refuses otherwise')
    .action(async (options: { prefix: string; org?: string }) => {
      const { revokeApiKey, REVOCATION_DELAY_NOTE } = await import('../admin/api-key-revocation');
      const revoked = await withDatabase(config(), (db) =>
        revokeApiKey(db, { prefix: options.prefix, ...(options.org !== undefined ? { org: options.org } : {}) }),
      );
      const which = `API key ${revoked.prefix} (${revoked.name}) of ${revoked.organization.slug}`;
      const at = revoked.revokedAt.toISOString();
      console.log(revoked.alreadyRevoked ? `${which} was already revoked at ${at}` : `${which} revoked at ${at}`);
      console.log(REVOCATION_DELAY_NOTE);
    });
}
