import { randomBytes } from 'node:crypto';

/** A Standard Webhooks secret for unit tests (the repository makes the real ones). */
export const newWebhookSecretForTest = (): string => `whsec_${randomBytes(32).toString('base64')}`;
