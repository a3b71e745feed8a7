import { describe, expect, it } from 'vitest';
import { PolarisError } from '@polaris/shared/errors';
import { EVENT_CATALOGUE, requireEventFilter } from './event-catalogue';
import { NOTIFICATION_EVENT_TYPES } from './notification-events.repository';
import { requireWebhookUrl } from './webhook-input';

describe('notification event catalogue', () => {
  it('has a version-1 schema for every event type, and each sample (the README shows them) parses', () => {
    expect(EVENT_CATALOGUE.map((e) => e.type).sort()).toEqual([...NOTIFICATION_EVENT_TYPES].sort());
    for (const entry of EVENT_CATALOGUE) expect(entry.schema.safeParse(entry.sample).success, entry.type).toBe(true);
  });

  it('refuses an unknown event type in a filter, naming the field and the type', () => {
    expect(() => requireEventFilter(['invoice.paid', 'invoice.exploded'])).toThrow(PolarisError);
    expect(() => requireEventFilter(['invoice.exploded'], 'eventTypes')).toThrow(/eventTypes: unknown event type "invoice.exploded"/);
    expect(requireEventFilter(['invoice.paid', 'invoice.created', 'invoice.paid'])).toEqual(['invoice.created', 'invoice.paid']);
  });

  it('refuses invalid URLs with the field named', () => {
    for (const bad of ['', 'not a url', 'ftp://example.com/x', 'https://user:pw@example.com/', 'https://example.com/#frag']) {
      expect(() => requireWebhookUrl(bad)).toThrow(expect.objectContaining({ code: 'invalid_url', field: 'url' }));
    }
    expect(requireWebhookUrl('https://hooks.example.com/polaris?x=1').toString()).toBe('https://hooks.example.com/polaris?x=1');
  });
});
