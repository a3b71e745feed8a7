import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

export function registerApiKeyCommands(program: Command, config: () => OperatorConfig): void {
  const apiKey = program.command('api-key').description('manage API keys');
  apiKey
    .command('create')
    .description('create an API key for an organization; the key is printed once')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--name <name>', 'label shown in listings', 'default')
    .option('--scopes <scopes>', 'comma-separated scopes', 'events:write,usage:read')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; name: string; scopes: string; json?: boolean }) => {
      const { parseScopes } = await import('../identity/scopes');
      const { createApiKey } = await import('../identity/api-keys');
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
      const { listApiKeys } = await import('../identity/api-keys');
      const { apiKeysJson, apiKeysText } = await import('../identity/listing');
      const { organization, keys } = await withDatabase(config(), (db) => listApiKeys(db, options.org));
      console.log(options.json ? apiKeysJson(keys) : apiKeysText(organization, keys));
    });
  apiKey
    .command('revoke')
    .description('revoke an API key by its prefix; revoking twice is harmless')
    .requiredOption('--prefix <prefix>', 'the key prefix, pol_xxxxxxxx (as shown by `api-key list`)')
    .option('--org <org>', 'organization id or slug the key must belong to; refuses otherwise')
    .action(async (options: { prefix: string; org?: string }) => {
      const { revokeApiKey, REVOCATION_DELAY_NOTE } = await import('../identity/api-key-revocation');
      const revoked = await withDatabase(config(), (db) =>
        revokeApiKey(db, { prefix: options.prefix, ...(options.org !== undefined ? { org: options.org } : {}) }),
      );
      const which = `API key ${revoked.prefix} (${revoked.name}) of ${revoked.organization.slug}`;
      const at = revoked.revokedAt.toISOString();
      console.log(revoked.alreadyRevoked ? `${which} was already revoked at ${at}` : `${which} revoked at ${at}`);
      console.log(REVOCATION_DELAY_NOTE);
    });
}
