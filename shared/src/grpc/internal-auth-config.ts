import { z } from 'zod';

/** HMAC-SHA256 wants a key at least as long as its output (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

const HOW = `at least ${MIN_SECRET_BYTES} bytes, the same value in every Polaris service; generate one with \`openssl rand -base64 48\``;

const secret = z
  .string({ error: (issue) => (issue.input === undefined ? `required: the secret that signs internal gRPC calls (${HOW})` : undefined) })
  .refine((s) => Buffer.byteLength(s, 'utf8') >= MIN_SECRET_BYTES, { error: `too short: must be ${HOW}` });

/**
 * The internal-call secret of every service that serves or calls internal gRPC. There is no
 * default: a deployment that forgets it must not start (a default would be a key everyone knows).
 * The local launcher (scripts/src/services/) and docker-compose.yml set one.
 */
export const internalAuthConfigSchema = z.object({
  /** Signs every outgoing call token and verifies incoming ones. */
  INTERNAL_AUTH_SECRET: secret,
  /** Verify-only, for rotation (docs/ARCHITECTURE.md, Tenancy): tokens signed with it are still accepted. */
  INTERNAL_AUTH_SECRET_PREVIOUS: secret.optional(),
});

export type InternalAuthConfig = z.infer<typeof internalAuthConfigSchema>;
