import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { PolarisError } from '@polaris/shared/errors';

// The SSRF guard of webhook deliveries (README "Webhooks", "Where deliveries may go"): in
// production a webhook may only reach public unicast addresses, never loopback, private,
// link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unique-local, multicast or
// reserved ranges. The addresses the connection will use are checked, not the hostname: a public
// name that resolves to 10.0.0.5, or a DNS answer that changes between a check and the connect
// (rebinding), is caught because the check runs inside the connection's own lookup.

/** Why an address is refused (ipaddr.js's range name), or undefined when it may be reached. */
export function blockedRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  // ::ffff:10.0.0.1 is 10.0.0.1: judge the IPv4 address it maps.
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

export class BlockedTargetError extends Error {
  readonly code = 'blocked_target';
  constructor(host: string, address: string, range: string) {
    super(`${host} resolves to ${address} (${range}), which webhooks may not reach`);
    this.name = 'BlockedTargetError';
  }
}

/**
 * A dns.lookup for the HTTP client's connections that answers only with addresses the guard
 * admits, and fails (BlockedTargetError) when any address of the name is refused, so a name
 * with one public and one private record cannot be steered to the private one.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    for (const { address } of addresses) {
      const range = blockedRange(address);
      if (range) return callback(new BlockedTargetError(hostname, address, range), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

/**
 * A URL's host when it is an IP literal: connections to literals skip the lookup, so they are
 * checked here before any connect. Undefined for names (the lookup checks them).
 */
function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) ? host : undefined;
}

/** Throws BlockedTargetError when the URL's host is an IP literal the guard refuses. */
export function checkLiteralTarget(url: URL): void {
  const address = literalAddress(url);
  if (!address) return;
  const range = blockedRange(address);
  if (range) throw new BlockedTargetError(url.hostname, address, range);
}

/** Resolves a name with the system resolver and checks every address (endpoint create/update). */
export async function checkResolvedTarget(url: URL): Promise<void> {
  checkLiteralTarget(url);
  if (literalAddress(url)) return;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(url.hostname, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * The check of an endpoint URL when it is registered or changed, as a PolarisError naming the
 * field: refused when it reaches a private range, or when its name does not resolve at all.
 */
export async function requirePublicTarget(url: URL, field = 'url'): Promise<void> {
  try {
    await checkResolvedTarget(url);
  } catch (err) {
    if (err instanceof BlockedTargetError) throw new PolarisError('invalid_argument', 'private_url', `${field}: ${err.message}`, field);
    const code = (err as { code?: string }).code ?? 'unknown error';
    throw new PolarisError('invalid_argument', 'unresolvable_url', `${field}: ${url.hostname} does not resolve (${code})`, field);
  }
}
