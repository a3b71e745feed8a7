import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { notificationEvents, organizations, withOrg, webhookEndpoints, webhookDispatch } from '@polaris/postgres';
import { throwawayPostgres } from '@polaris/postgres/testing';
import { loadDevConfig } from '../src/config';
import { WebhookSender } from '../../rating-worker/src/notifications/webhook-sender';
import { signatureHeaders, webhookBody } from '../../rating-worker/src/notifications/webhook-signature';
const stack = loadDevConfig();
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`;
const db = await throwawayPostgres({ serverUrl: stack.postgres.url, poolMax: 40 });
const org = (await organizations.create(db.pool, { name: 'p', slug: `p-${randomBytes(3).toString('hex')}` })).id;
await webhookEndpoints.create(db.pool, { organizationId: org, url, eventTypes: [] });
const sender = new WebhookSender({ timeoutMs: 10000, excerptBytes: 2048, allowPrivateTargets: true });
const ids: string[] = [];
for (let i = 0; i < 20; i++) { const e = await withOrg(db.pool, org, (tx) => notificationEvents.record(tx, { organizationId: org, type: 'dead_letters.growing', payload: {}, dedupeKey: randomUUID(), occurredAt: new Date() })); const f = await webhookDispatch.fanOut(db.pool, org, e!); ids.push(f.deliveries[0]!.deliveryId); }
const lap = () => { const s = performance.now(); return () => Math.round(performance.now() - s); };
for (const id of ids.slice(0, 5)) {
  let l = lap(); const d = (await webhookDispatch.sendable(db.pool, org, id))!; const a = l();
  l = lap(); const body = webhookBody(d.event); const h = signatureHeaders(d.secrets, id, body, new Date()); const b = l();
  l = lap(); const r = await sender.send(d.url, body, h); const c = l();
  l = lap(); await webhookDispatch.recordAttempt(db.pool, { organizationId: org, deliveryId: id, endpointId: d.endpointId, trigger: 'initial', startedAt: new Date(), disableAfterMs: 1e9, final: true, ...r }); const e = l();
  console.log({ sendable: a, sign: b, send: c, record: e });
}
await sender.close(); await db.drop(); server.close();
