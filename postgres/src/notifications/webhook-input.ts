import { PolarisError } from '@polaris/shared/errors';

// Checks of what callers send about webhook endpoints, each naming its field. Whether a URL's
// host may be reached (private ranges, DNS) is the notifier's call (rating-worker target guard),
// since it depends on the deployment; here only its shape.

const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 500;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An absolute http(s) URL without credentials or fragment, as the endpoint will be called. */
export function requireWebhookUrl(raw: string, field = 'url'): URL {
  const invalid = (why: string) => new PolarisError('invalid_argument', 'invalid_url', `${field}: ${why}`, field);
  if (raw.length === 0) throw invalid('a URL is required');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${JSON.stringify(raw.slice(0, 100))} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`scheme ${url.protocol.replace(':', '')} is not http or https`);
  if (url.username || url.password) throw invalid('credentials in the URL are refused; authenticate with the signature');
  if (url.hash) throw invalid('a fragment (#…) is never sent; remove it');
  if (!url.hostname) throw invalid('a host is required');
  return url;
}

export function requireDescription(raw: string | undefined, field = 'description'): string {
  const value = raw ?? '';
  if (value.length > MAX_DESCRIPTION_LENGTH) {
    throw new PolarisError('invalid_argument', 'invalid_description', `${field}: at most ${MAX_DESCRIPTION_LENGTH} characters`, field);
  }
  return value;
}

/** '' or undefined: none. */
export function optionalEmail(raw: string | undefined, field = 'alert_email'): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > 320 || !EMAIL.test(raw)) {
    throw new PolarisError('invalid_argument', 'invalid_email', `${field}: ${JSON.stringify(raw.slice(0, 100))} is not an email address`, field);
  }
  return raw;
}

/** Unknown ids are not found, never a SQL error. */
export function requireId(raw: string, what: string, field: string): string {
  if (!UUID.test(raw)) throw new PolarisError('not_found', `${what}_not_found`, `no ${what.replace(/_/g, ' ')} ${JSON.stringify(raw.slice(0, 64))}`, field);
  return raw;
}
