import { Agent, request } from 'undici';
import type { AttemptOutcome } from '@polaris/postgres';
import { BlockedTargetError, checkLiteralTarget, guardedLookup } from './target-guard';

// One HTTP attempt of a delivery: a POST with the signed body, bounded in time (WEBHOOK_TIMEOUT_MS
// for the whole exchange) and in what is read back (WEBHOOK_RESPONSE_EXCERPT_BYTES, kept as the
// log's excerpt; the rest is never read). Redirects are not followed: a 3xx is a failure, since
// following one would send the signed event somewhere the org never registered.

export interface SenderSettings {
  timeoutMs: number;
  excerptBytes: number;
  /** false (production): the target guard refuses private, loopback and link-local addresses. */
  allowPrivateTargets: boolean;
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  responseStatus?: number;
  durationMs: number;
  responseExcerpt: string;
  error?: string;
}

const USER_AGENT = 'Polaris-Webhooks/1';

export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly settings: SenderSettings) {
    this.agent = new Agent({
      connect: settings.allowPrivateTargets ? {} : { lookup: guardedLookup },
      // A slow endpoint must not hold a connection beyond the attempt.
      keepAliveTimeout: 10_000,
    });
  }

  async send(url: string, body: string, headers: Record<string, string>): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      if (!this.settings.allowPrivateTargets) checkLiteralTarget(new URL(url));
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
      });
      const excerpt = await readCapped(response.body, this.settings.excerptBytes);
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return {
        outcome: ok ? 'delivered' : 'http_error',
        responseStatus: response.statusCode,
        durationMs: elapsed(),
        responseExcerpt: excerpt,
        ...(ok ? {} : { error: `HTTP ${response.statusCode}` }),
      };
    } catch (err) {
      return { ...failureOf(err), durationMs: elapsed(), responseExcerpt: '' };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads at most `cap` bytes of a body, then drops the connection's rest unread. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= cap) break;
  }
  body.destroy();
  // Cut on a byte boundary may split a character: the excerpt is for people, a U+FFFD is fine.
  return Buffer.concat(chunks).subarray(0, cap).toString('utf8');
}

function failureOf(err: unknown): { outcome: AttemptOutcome; error: string } {
  const cause = (err as { cause?: unknown }).cause;
  if (err instanceof BlockedTargetError || cause instanceof BlockedTargetError) {
    return { outcome: 'blocked_target', error: (cause instanceof BlockedTargetError ? cause : (err as Error)).message };
  }
  const name = (err as { name?: string }).name;
  const code = (err as { code?: string }).code;
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { outcome: 'timeout', error: 'timed out' };
  }
  const message = err instanceof Error ? err.message : String(err);
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return { outcome: 'network_error', error: `${code ?? 'error'}: ${message}${detail}`.slice(0, 500) };
}
