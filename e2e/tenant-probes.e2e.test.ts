import { randomUUID } from 'node:crypto';
import {
  buildClientSchema, getIntrospectionQuery, getNamedType, isEnumType, isInputObjectType, isLeafType, isListType, isNonNullType, isObjectType,
  type GraphQLArgument, type GraphQLField, type GraphQLInputType, type GraphQLOutputType, type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';
import { API_KEY_SCOPES } from '@polaris/shared/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSystem, type BillingSystem } from './support/billing-system';
import { eventually } from './support/http';
import { meterEvent } from './support/meter-events';
import { createMeter, dataOf, graphqlAt, waitForBackfill } from './support/meters';
import type { Tenant } from './support/tenants';

/**
 * Generated cross-tenant probes. Organization A gets real data (a meter, events, a customer, a
 * plan, a subscription and its invoice, plus whatever every other `create…` mutation accepts);
 * then the GraphQL schema is walked by introspection and EVERY Query and Mutation field is called
 * as organization B with arguments filled from A's ids, keys, slugs, external ids and names
 * (chosen by argument name and type), selecting every scalar to a bounded depth. Each answer must
 * be NOT_FOUND / BAD_USER_INPUT / FORBIDDEN or B's own (empty) data, and must hold no byte of A's
 * data. A new field is probed without anyone writing a test; one that cannot be probed must be
 * listed in UNPROBED with the reason, or the test fails.
 */

/** Fields deliberately not probed, with why. Empty today: every field is probed. */
const UNPROBED: Record<string, string> = {};

const ALLOWED_CODES = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'FORBIDDEN']);
/** Refusals that mean the probe itself was wrong (it never reached a resolver): a bug here, not a pass. */
const PROBE_BUGS = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'query_too_costly', 'query_too_deep', 'too_many_aliases', 'query_too_long']);
const SELECTION_DEPTH = 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Arguments that name something (so take A's value); any other text is B's own free text. */
const REFERENCE = /^(id|ids|externalId|key|slug|metric|subject|subjects|type|eventType)$|(Id|Ids|Key|Slug)$/;
/** Argument names that mean one of A's fields by another name. */
const FIELD_ALIASES: Record<string, string> = { metric: 'slug', meterSlug: 'slug', planKey: 'key', eventType: 'type', subjects: 'subject' };

interface Answer {
  status: number;
  text: string;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }> };
}

/** What A's answers held: ids by GraphQL type, text by field name, and every secret byte string. */
class Pool {
  readonly idsByType = new Map<string, string[]>();
  readonly textByField = new Map<string, string[]>();
  readonly secrets = new Set<string>();
  constructor(readonly marker: string) {}

  secret(value: string): void {
    if (value.length >= 6) this.secrets.add(value);
  }

  /** Walks an answer of A's: ids, marked text and keys become secrets and argument values. */
  collect(value: unknown, field = '', typename = ''): void {
    if (Array.isArray(value)) return value.forEach((v) => this.collect(v, field, typename));
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const type = typeof obj.__typename === 'string' ? obj.__typename : '';
      for (const [k, v] of Object.entries(obj)) if (k !== '__typename') this.collect(v, k, type);
      return;
    }
    if (typeof value !== 'string') return;
    const add = (map: Map<string, string[]>, key: string) => {
      const list = map.get(key) ?? [];
      if (!list.includes(value)) map.set(key, [...list, value]);
    };
    // Every id names one of A's things (a backfill run's is a number), whatever its shape.
    if (field === 'id' && typename) add(this.idsByType, typename);
    if (!(UUID.test(value) || value.includes(this.marker) || value.startsWith('pol_'))) return;
    this.secret(value);
    add(this.textByField, field);
  }
}

type Mode = { as: 'A' | 'B'; free: string };

/** Builds probe calls from the schema, the values taken from A's pool. */
class ProbeBuilder {
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly pool: Pool,
    private readonly orgA: string,
  ) {}

  /** One document per variant: the required arguments, then each optional reference argument alone. */
  variants(root: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, mode: Mode): Array<{ query: string; variables: Record<string, unknown> }> {
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    const optionalRefs = field.args.filter((a) => !required.includes(a) && (REFERENCE.test(a.name) || FIELD_ALIASES[a.name]));
    const sets: GraphQLArgument[][] = [required, ...optionalRefs.map((a) => [...required, a])];
    const selection = this.selection(field.type, SELECTION_DEPTH);
    return sets.map((args) => {
      const vars = args.map((a, i) => `$a${i}: ${String(a.type)}`);
      const call = args.map((a, i) => `${a.name}: $a${i}`);
      const variables = Object.fromEntries(args.map((a, i) => [`a${i}`, this.value(a.name, a.type, field, mode)]));
      const head = vars.length ? `${root} Probe(${vars.join(', ')})` : root;
      return { query: `${head} { ${field.name}${call.length ? `(${call.join(', ')})` : ''} ${selection} }`, variables };
    });
  }

  selection(type: GraphQLOutputType, depth: number): string {
    const named = getNamedType(type);
    if (isLeafType(named)) return '';
    if (!isObjectType(named)) return '{ __typename }';
    const parts = ['__typename'];
    for (const f of Object.values(named.getFields())) {
      if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
      if (isLeafType(getNamedType(f.type))) parts.push(f.name);
      else if (depth > 1) parts.push(`${f.name} ${this.selection(f.type, depth - 1)}`);
    }
    return `{ ${parts.join(' ')} }`;
  }

  private value(name: string, type: GraphQLInputType, field: GraphQLField<unknown, unknown>, mode: Mode): unknown {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return [this.value(name, inner.ofType, field, mode)];
    if (isEnumType(inner)) return inner.getValues()[0]?.name;
    if (isInputObjectType(inner)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(inner.getFields())) {
        const needed = isNonNullType(f.type) && f.defaultValue === undefined;
        // Optional references too, except a second way to name the same thing (`customerId` or `externalId`).
        const alternative = /^(customerId|externalId)$/.test(f.name) && ('customerId' in out || 'externalId' in out);
        if (needed || ((REFERENCE.test(f.name) || FIELD_ALIASES[f.name]) && !alternative)) out[f.name] = this.value(f.name, f.type, field, mode);
      }
      return out;
    }
    switch (inner.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'Decimal':
        return '1';
      case 'JSONObject':
        return {};
      case 'DateTime':
        return new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString();
      default:
        return this.text(name, field, mode);
    }
  }

  /** A's value for a reference; plausible text of the caller's own otherwise. */
  private text(name: string, field: GraphQLField<unknown, unknown>, mode: Mode): string {
    if (/path$/i.test(name)) return '$.tokens';
    if (name === 'currency') return 'USD';
    if (/timeZone$/i.test(name)) return 'UTC';
    if (name === 'url') return `https://example.com/${mode.free}`;
    if (name === 'email') return `${mode.free}@example.com`;
    if (name === 'scopes') return 'usage:read';
    const reference = REFERENCE.test(name) || FIELD_ALIASES[name] !== undefined;
    if (!reference && mode.as === 'B') return `b-${mode.free}`;
    if (/^ids?$/.test(name)) return this.first(this.pool.idsByType.get(getNamedType(field.type).name.replace(/(Connection|Payload)$/, ''))) ?? this.orgA;
    const exact = this.first(this.pool.textByField.get(name));
    if (exact !== undefined) return exact;
    if (/Ids?$/.test(name)) {
      const typeName = name.replace(/Ids?$/, '').toLowerCase();
      const type = [...this.pool.idsByType.keys()].find((t) => t.toLowerCase() === typeName || t.toLowerCase().endsWith(typeName));
      return this.first(type ? this.pool.idsByType.get(type) : undefined) ?? this.orgA;
    }
    const known = this.pool.textByField.get(FIELD_ALIASES[name] ?? '') ?? this.pool.textByField.get(name.replace(/^.*([A-Z][a-z]+)$/, '$1').toLowerCase());
    return this.first(known) ?? `${this.pool.marker}-${name}`;
  }

  private first(list: string[] | undefined): string | undefined {
    return list?.[0];
  }
}

/** What is wrong with B's answer to one probe: a refusal of the wrong kind, or any of A's bytes it holds. */
function judge(name: string, sent: string, res: Answer, secrets: ReadonlySet<string>, sentByB: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const err of res.body.errors ?? []) {
    const { code = '?', reason = '?' } = err.extensions ?? {};
    if (PROBE_BUGS.has(code) || PROBE_BUGS.has(reason)) problems.push(`${name}: the probe itself was refused (${code}/${reason}: ${err.message}); fix the builder or list it in UNPROBED`);
    else if (!ALLOWED_CODES.has(code)) problems.push(`${name}: answered ${code}/${reason} (${err.message}) to ${sent}`);
  }
  for (const secret of secrets) {
    // What B sent may come back (an error naming the id asked for, B's own customer with that external id).
    if (sent.includes(secret) || (!UUID.test(secret) && sentByB.has(secret))) continue;
    if (res.text.includes(secret)) problems.push(`${name}: the answer to ${sent} holds A's ${JSON.stringify(secret)}: ${res.text.slice(0, 300)}`);
  }
  return problems;
}

describe('generated cross-tenant probes: every Query and Mutation field, as B with A’s ids', () => {
  let system: BillingSystem;
  let url: string;
  let a: Tenant;
  let b: Tenant;
  let schema: GraphQLSchema;
  const pool = new Pool(`tp${randomUUID().slice(0, 8)}`);
  const m = pool.marker;

  const call = async (tenant: Tenant, query: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(20_000),
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Answer['body'] };
  };
  const ok = async (tenant: Tenant, query: string, variables: Record<string, unknown> = {}): Promise<unknown> => {
    const res = await call(tenant, query, variables);
    if (res.body.errors?.length) throw new Error(`${query} failed: ${res.text}`);
    pool.collect(res.body.data);
    return res.body.data;
  };

  beforeAll(async () => {
    system = await startBillingSystem({ label: 'tenant-probes', invoiceGraceMs: 3_600_000, gateway: true });
    url = system.gatewayUrl ?? '';
    [a, b] = await Promise.all([system.createTenant([...API_KEY_SCOPES]), system.createTenant([...API_KEY_SCOPES])]);
    pool.secret(a.apiKey);
    pool.secret(a.orgId);
    const me = (await ok(a, '{ me { id slug name } }')) as { me: { slug: string; name: string } };
    pool.secret(me.me.slug);
    pool.secret(me.me.name);

    // A's data, every name marked so that any byte of it is recognisable.
    const slug = `${m}_tokens`;
    await createMeter(url, a.apiKey, { slug, name: `${m} Tokens`, description: `${m} meter`, eventType: `${m}.llm`, aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] });
    await waitForBackfill(url, a.apiKey, slug);
    await ok(a, `{ meter(slug: "${slug}") { __typename id slug name latestBackfill { __typename id } } }`);
    const customer = `mutation { createCustomer(input: { externalId: "${m}-acme", name: "${m} Acme", email: "${m}@acme.example", currency: "USD", subjects: ["${m}-subject"] }) { __typename id externalId name email subjects } }`;
    await ok(a, customer);
    await ok(a, `mutation { createPlan(input: { key: "${m}_plan", name: "${m} Plan", description: "${m} plan", currency: "USD", prices: [{ key: "${m}_base", model: FLAT, amount: "10" }, { key: "${m}_calls", model: PER_UNIT, meterSlug: "${slug}", unitPrice: "0.5" }] }) { __typename id key name versions { __typename id } } }`);
    await ok(a, `mutation { publishPlanVersion(planKey: "${m}_plan", version: 1) { __typename id } }`);
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString();
    await ok(a, `mutation { createSubscription(input: { externalId: "${m}-acme", planKey: "${m}_plan", startAt: "${lastMonth}" }) { __typename id } }`);
    await system.send(a.apiKey, [
      meterEvent({ id: `${m}-event-1`, source: `${m}-source`, type: `${m}.llm`, subject: `${m}-subject`, timeMs: Date.now() - 60_000, dataJson: `{"tokens":5,"model":"${m}-model"}` }),
    ]);
    // The rating-worker drafts last month's invoice within seconds (it scans every second).
    await eventually(async () => {
      const { invoices } = (await ok(a, '{ invoices { __typename id number customerId } }')) as { invoices: unknown[] };
      return invoices.length > 0 ? true : undefined;
    }, "A's invoice to be drafted", 30_000, 250);

    schema = buildClientSchema(((await ok(a, getIntrospectionQuery())) as IntrospectionQuery));
    const builder = new ProbeBuilder(schema, pool, a.orgId);
    const mutations = Object.values(schema.getMutationType()?.getFields() ?? {});
    // Whatever else A can create (keys, webhooks, thresholds…), made with A's values: best effort.
    const seeded = new Set(['createMeter', 'createCustomer', 'createPlan', 'createSubscription']);
    for (const field of mutations.filter((f) => f.name.startsWith('create') && !seeded.has(f.name))) {
      for (const v of builder.variants('mutation', field, { as: 'A', free: `${m}-${field.name}` })) pool.collect((await call(a, v.query, v.variables)).body.data);
    }
    // Every Query field as A: whatever A can read of its own becomes secrets and argument values.
    for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
      if (field.name.startsWith('__')) continue;
      for (const v of builder.variants('query', field, { as: 'A', free: m })) pool.collect((await call(a, v.query, v.variables)).body.data);
    }
  });
  afterAll(() => system?.stop());

  it('B reads and changes nothing of A: every field answers a refusal or B’s own data, without a byte of A’s', async () => {
    expect(pool.idsByType.get('Customer')?.length).toBeGreaterThan(0);
    expect(pool.idsByType.get('Invoice')?.length).toBeGreaterThan(0);
    const builder = new ProbeBuilder(schema, pool, a.orgId);
    // The judge is not blind: A's own answer to a probe, judged as if it were B's, is a leak.
    const [own] = builder.variants('query', schema.getQueryType()?.getFields().customers as GraphQLField<unknown, unknown>, { as: 'B', free: 'x' });
    expect(judge('Query.customers', '{}', await call(a, own?.query ?? '', own?.variables), pool.secrets, new Set())).not.toEqual([]);
    const free = randomUUID().slice(0, 8);
    /** Text B itself sent (an external id B may then own): seeing it again is no leak. A's ids are never B's. */
    const sentByB = new Set<string>();
    const problems: string[] = [];
    const probed = new Set<string>();
    const fields: Array<['query' | 'mutation', GraphQLField<unknown, unknown>]> = [
      ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((f) => ['query', f] as ['query', GraphQLField<unknown, unknown>]),
      ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((f) => ['mutation', f] as ['mutation', GraphQLField<unknown, unknown>]),
    ];
    for (const [root, field] of fields) {
      const name = `${root === 'query' ? 'Query' : 'Mutation'}.${field.name}`;
      if (UNPROBED[name]) continue;
      for (const { query, variables } of builder.variants(root, field, { as: 'B', free })) {
        const sent = JSON.stringify(variables);
        const res = await call(b, query, variables);
        problems.push(...judge(name, sent, res, pool.secrets, sentByB));
        for (const s of pool.secrets) if (sent.includes(s) && !UUID.test(s)) sentByB.add(s);
        probed.add(name);
        if (process.env.PROBE_DEBUG) console.log(name, res.status, res.body.errors?.map((e) => e.extensions?.reason).join(',') ?? 'ok', sent.slice(0, 160));
      }
    }
    const unaccounted = fields.map(([root, f]) => `${root === 'query' ? 'Query' : 'Mutation'}.${f.name}`).filter((n) => !probed.has(n) && !UNPROBED[n]);
    expect(unaccounted, 'fields neither probed nor listed in UNPROBED').toEqual([]);
    expect(problems).toEqual([]);
    // The walk covered the schema as it is now, whoever added fields to it.
    expect(probed.size).toBeGreaterThanOrEqual(fields.length - Object.keys(UNPROBED).length);
  });

  it('A still has all of it afterwards: B’s mutations touched nothing of A’s', async () => {
    const data = dataOf(await graphqlAt<{ customers: { nodes: Array<{ externalId: string; status: string }> }; plan: { status: string }; meter: { status: string } }>(
      url, a.apiKey, `{ customers { nodes { externalId status } } plan(key: "${m}_plan") { status } meter(slug: "${m}_tokens") { status } }`,
    ), "A's data");
    expect(data.customers.nodes).toContainEqual({ externalId: `${m}-acme`, status: 'ACTIVE' });
    expect(data.plan.status).toBe('ACTIVE');
    expect(data.meter.status).toBe('ACTIVE');
    // And its recent events show what its meter read from them (Usage.ListEvents on the real sink-worker).
    const events = dataOf(await graphqlAt<{ events: { nodes: Array<{ id: string; meterValues: unknown[] }> } }>(url, a.apiKey, '{ events { nodes { id meterValues { meterSlug value dimensions } } } }'), "A's events");
    expect(events.events.nodes).toEqual([{ id: `${m}-event-1`, meterValues: [{ meterSlug: `${m}_tokens`, value: '5', dimensions: { model: `${m}-model` } }] }]);
  });
});
