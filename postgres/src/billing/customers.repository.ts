import { requireOrganizationId } from '@polaris/shared/contracts';
import { checkCurrency, checkTimeZone } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireOrganization } from '../meters/meter-input';
import { decodePageToken, encodePageToken, pageSize } from '../meters/page-token';
import type { Customer } from './billing-records';
import { customerArchived, customerNotFound, email, entityName, externalId, isUuid, subjectList } from './catalog-input';
import { CUSTOMER_COLUMNS, customerRowSchema } from './catalog-rows';

// The `customers` and `customer_subjects` tables, for one organization at a time: every function
// runs under withOrg (row-level security) and every query is also bound to the caller's
// organization_id, so another tenant's customer is not found, whatever its id.

/** A customer by its id or by its external id: exactly one is set. */
export interface CustomerRef {
  organizationId: string;
  customerId?: string;
  externalId?: string;
}

export interface CreateCustomerInput {
  organizationId: string;
  externalId: string;
  name: string;
  email?: string;
  /** ISO 4217. */
  currency: string;
  /** IANA; default UTC. */
  timeZone?: string;
  subjects?: readonly string[];
}

export interface UpdateCustomerInput extends CustomerRef {
  name?: string;
  email?: string;
  /** Fixed once the customer has a subscription (its invoices depend on it). */
  currency?: string;
  timeZone?: string;
}

export interface ListCustomersInput {
  organizationId: string;
  includeArchived?: boolean;
  pageSize?: number;
  pageToken?: string;
}

const holderSchema = z.object({ subject: z.string(), externalId: z.string() });
const subjectSchema = z.object({ subject: z.string() });
const subjectsSchema = z.object({ subjects: z.array(z.string()) });

async function selectCustomer(db: Queryable, ref: CustomerRef, lock: boolean): Promise<Customer> {
  requireOrganizationId(ref.organizationId);
  const byId = ref.customerId !== undefined && ref.customerId !== '';
  const byExternal = ref.externalId !== undefined && ref.externalId !== '';
  if (byId === byExternal) {
    throw new PolarisError('invalid_argument', 'invalid_customer_ref', 'name the customer by customer_id or by external_id (exactly one)', 'customer_id');
  }
  const [field, value] = byId ? (['customer_id', ref.customerId ?? ''] as const) : (['external_id', ref.externalId ?? ''] as const);
  if (field === 'customer_id' && !isUuid(value)) throw customerNotFound(field, value);
  if (value.includes('\u0000')) throw customerNotFound(field, value);
  const column = field === 'customer_id' ? 'c.id = $2::uuid' : 'c.external_id = $2';
  const { rows } = await db.query(
    `SELECT ${CUSTOMER_COLUMNS} FROM customers c WHERE c.organization_id = $1 AND ${column}${lock ? ' FOR UPDATE OF c' : ''}`,
    [ref.organizationId, value],
  );
  const found = parseFirstRow('customers.get', customerRowSchema, rows);
  if (!found) throw customerNotFound(field, value);
  return found;
}

/** The customer named by id or external id (exactly one), of this org only: customer_not_found otherwise. */
export const findCustomer = (db: Queryable, ref: CustomerRef): Promise<Customer> => selectCustomer(db, ref, false);

/** The customer, locked for the rest of the transaction: changes to one customer happen one at a time. */
export const lockCustomer = (tx: Queryable, ref: CustomerRef): Promise<Customer> => selectCustomer(tx, ref, true);

async function reread(tx: Queryable, customer: Customer): Promise<Customer> {
  return selectCustomer(tx, { organizationId: customer.organizationId, customerId: customer.id }, false);
}

/**
 * Maps subjects to the customer. A subject the customer already has is kept; one another customer
 * of the organization holds is refused (already_exists `subject_taken`, naming `subjects[i]` and
 * the holder), and the caller's transaction then writes nothing.
 */
async function mapSubjects(tx: Queryable, customer: Customer, subjects: readonly string[], requested: readonly string[]): Promise<void> {
  if (subjects.length === 0) return;
  // ON CONFLICT waits for a concurrent insert of the same subject, then sees it: no race is lost silently.
  const { rows } = await tx.query(
    `INSERT INTO customer_subjects (organization_id, subject, customer_id) SELECT $1, s, $2 FROM unnest($3::text[]) AS s
     ON CONFLICT (organization_id, subject) DO NOTHING RETURNING subject`,
    [customer.organizationId, customer.id, subjects],
  );
  const inserted = new Set(parseRows('customers.mapSubjects', subjectSchema, rows).map((r) => r.subject));
  const held = subjects.filter((s) => !inserted.has(s));
  if (held.length === 0) return;
  const { rows: holderRows } = await tx.query(
    `SELECT cs.subject, c.external_id AS "externalId" FROM customer_subjects cs
       JOIN customers c ON c.id = cs.customer_id AND c.organization_id = cs.organization_id
      WHERE cs.organization_id = $1 AND cs.subject = ANY($2::text[]) AND cs.customer_id <> $3`,
    [customer.organizationId, held, customer.id],
  );
  const holders = new Map(parseRows('customers.subjectHolders', holderSchema, holderRows).map((r) => [r.subject, r.externalId]));
  const taken = requested.findIndex((s) => holders.has(s));
  if (taken >= 0) {
    const subject = requested[taken] ?? '';
    throw new PolarisError(
      'already_exists',
      'subject_taken',
      `subject ${JSON.stringify(subject)} already belongs to customer ${JSON.stringify(holders.get(subject))}; remove it there first`,
      `subjects[${taken}]`,
    );
  }
}

/** Creates a customer with its subjects, in one transaction: nothing is half-created. */
async function create(db: Transactable, input: CreateCustomerInput): Promise<Customer> {
  requireOrganizationId(input.organizationId);
  const external = externalId(input.externalId);
  const name = entityName(input.name);
  const address = email(input.email ?? '');
  const currency = checkCurrency(input.currency, 'currency');
  const timeZone = checkTimeZone(input.timeZone?.trim() ? input.timeZone : 'UTC', 'time_zone');
  const requested = input.subjects ?? [];
  const subjects = subjectList(requested, { atLeastOne: false });
  return withOrg(db, input.organizationId, async (tx) => {
    await requireOrganization(tx, input.organizationId);
    let created: Customer | undefined;
    try {
      const { rows } = await tx.query(
        `INSERT INTO customers AS c (organization_id, external_id, name, email, currency, time_zone) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${CUSTOMER_COLUMNS}`,
        [input.organizationId, external, name, address, currency, timeZone],
      );
      created = parseFirstRow('customers.create', customerRowSchema, rows);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new PolarisError('already_exists', 'customer_exists', `a customer with external id ${JSON.stringify(external)} already exists in this organization`, 'external_id');
      }
      throw error;
    }
    if (!created) throw new Error('INSERT … RETURNING returned no row');
    await mapSubjects(tx, created, subjects, requested);
    return reread(tx, created);
  });
}

/** The organization's customer, by id or external id, archived or not. */
const get = (db: Transactable, ref: CustomerRef): Promise<Customer> => withOrg(db, ref.organizationId, (tx) => selectCustomer(tx, ref, false));

/**
 * The organization's customers among `customerIds`, archived or not, in one query (any order):
 * an id that is not a UUID, unknown, or another organization's is left out. The batch lookups
 * (BatchGetCustomers) call it with a bounded list.
 */
async function getMany(db: Transactable, input: { organizationId: string; customerIds: readonly string[] }): Promise<Customer[]> {
  requireOrganizationId(input.organizationId);
  const ids = [...new Set(input.customerIds.filter(isUuid))];
  if (ids.length === 0) return [];
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${CUSTOMER_COLUMNS} FROM customers c WHERE c.organization_id = $1 AND c.id = ANY($2::uuid[])`, [input.organizationId, ids]);
    return parseRows('customers.getMany', customerRowSchema, rows);
  });
}

/** One page of an organization's customers, by external id. */
async function list(db: Transactable, input: ListCustomersInput): Promise<{ customers: Customer[]; nextPageToken?: string }> {
  requireOrganizationId(input.organizationId);
  const size = pageSize(input.pageSize);
  const after = decodePageToken(input.pageToken);
  const { rows } = await withOrg(db, input.organizationId, (tx) => tx.query(
    `SELECT ${CUSTOMER_COLUMNS} FROM customers c
      WHERE c.organization_id = $1 AND ($2 OR c.status = 'active') AND ($3::text IS NULL OR c.external_id > $3)
      ORDER BY c.external_id LIMIT $4`,
    [input.organizationId, input.includeArchived ?? false, after ?? null, size + 1],
  ));
  const found = parseRows('customers.list', customerRowSchema, rows);
  const page = found.slice(0, size);
  const last = page.at(-1);
  return found.length > size && last ? { customers: page, nextPageToken: encodePageToken(last.externalId) } : { customers: page };
}

async function hasSubscription(tx: Queryable, customer: Customer, activeOnly: boolean): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 FROM subscriptions WHERE organization_id = $1 AND customer_id = $2 ${activeOnly ? "AND status = 'active'" : ''} LIMIT 1`,
    [customer.organizationId, customer.id],
  );
  return rows.length > 0;
}

/** Edits name and email; currency and time zone too while the customer has never subscribed. */
async function update(db: Transactable, input: UpdateCustomerInput): Promise<Customer> {
  const name = input.name === undefined ? undefined : entityName(input.name);
  const address = input.email === undefined ? undefined : email(input.email);
  const currency = input.currency === undefined ? undefined : checkCurrency(input.currency, 'currency');
  const timeZone = input.timeZone === undefined ? undefined : checkTimeZone(input.timeZone, 'time_zone');
  return withOrg(db, input.organizationId, async (tx) => {
    // The lock also orders this against a subscription being created (it locks the customer too).
    const customer = await lockCustomer(tx, input);
    if (customer.status === 'archived') throw customerArchived(customer.externalId);
    const moved = [
      ...(currency !== undefined && currency !== customer.currency ? ['currency'] : []),
      ...(timeZone !== undefined && timeZone !== customer.timeZone ? ['time_zone'] : []),
    ];
    if (moved.length > 0 && (await hasSubscription(tx, customer, false))) {
      throw new PolarisError(
        'failed_precondition',
        'customer_has_subscription',
        `the ${moved.join(' and ')} of customer ${JSON.stringify(customer.externalId)} cannot change: it has a subscription, whose invoices depend on them`,
        moved[0],
      );
    }
    await tx.query(
      `UPDATE customers SET name = COALESCE($3, name), email = COALESCE($4, email), currency = COALESCE($5, currency),
              time_zone = COALESCE($6, time_zone), updated_at = now()
        WHERE organization_id = $1 AND id = $2`,
      [customer.organizationId, customer.id, name ?? null, address ?? null, currency ?? null, timeZone ?? null],
    );
    return reread(tx, customer);
  });
}

/** Archives a customer with no active subscription. Its subjects stay mapped. Archiving twice is harmless. */
async function archive(db: Transactable, ref: CustomerRef): Promise<Customer> {
  return withOrg(db, ref.organizationId, async (tx) => {
    const customer = await lockCustomer(tx, ref);
    if (customer.status === 'archived') return customer;
    if (await hasSubscription(tx, customer, true)) {
      throw new PolarisError(
        'failed_precondition',
        'customer_has_active_subscription',
        `customer ${JSON.stringify(customer.externalId)} has an active subscription; cancel it and let its last period be billed first`,
        'customer',
      );
    }
    await tx.query(`UPDATE customers SET status = 'archived', updated_at = now() WHERE organization_id = $1 AND id = $2`, [customer.organizationId, customer.id]);
    return reread(tx, customer);
  });
}

/** Maps more subjects to a customer; all or none (see mapSubjects). Subjects it already has are kept. */
async function addSubjects(db: Transactable, input: CustomerRef & { subjects: readonly string[] }): Promise<Customer> {
  const subjects = subjectList(input.subjects, { atLeastOne: true });
  return withOrg(db, input.organizationId, async (tx) => {
    const customer = await lockCustomer(tx, input);
    if (customer.status === 'archived') throw customerArchived(customer.externalId);
    await mapSubjects(tx, customer, subjects, input.subjects);
    return reread(tx, customer);
  });
}

/** Unmaps subjects from a customer; one it does not have is ignored (removing twice is harmless). */
async function removeSubjects(db: Transactable, input: CustomerRef & { subjects: readonly string[] }): Promise<Customer> {
  const subjects = subjectList(input.subjects, { atLeastOne: true });
  return withOrg(db, input.organizationId, async (tx) => {
    const customer = await lockCustomer(tx, input);
    await tx.query('DELETE FROM customer_subjects WHERE organization_id = $1 AND customer_id = $2 AND subject = ANY($3::text[])', [
      customer.organizationId,
      customer.id,
      subjects,
    ]);
    return reread(tx, customer);
  });
}

/** The customer's subjects, sorted (the rating engine reads usage for these); NOT_FOUND for another org's customer. */
async function subjectsOf(db: Transactable, organizationId: string, customerId: string): Promise<string[]> {
  requireOrganizationId(organizationId);
  if (!isUuid(customerId)) throw customerNotFound('customer_id', customerId);
  const { rows } = await withOrg(db, organizationId, (tx) => tx.query(
    `SELECT ARRAY(SELECT cs.subject FROM customer_subjects cs
                   WHERE cs.organization_id = c.organization_id AND cs.customer_id = c.id ORDER BY cs.subject COLLATE "C") AS subjects
       FROM customers c WHERE c.organization_id = $1 AND c.id = $2::uuid`,
    [organizationId, customerId],
  ));
  const found = parseFirstRow('customers.subjectsOf', subjectsSchema, rows);
  if (!found) throw customerNotFound('customer_id', customerId);
  return found.subjects;
}

/** The `customers` and `customer_subjects` tables, per organization: the only code that writes them. */
export const customers = { create, get, getMany, list, update, archive, addSubjects, removeSubjects, subjectsOf };
