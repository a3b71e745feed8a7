import { requireOrganizationId } from '@polaris/shared/contracts';
import { checkCurrency, checkPrices, type Price } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireOrganization } from '../meters/meter-input';
import { decodePageToken, encodePageToken, pageSize } from '../meters/page-token';
import type { Plan, PlanVersion } from './billing-records';
import { entityName, isUuid, planArchived, planDescription, planKey, versionNumber } from './catalog-input';
import { PLAN_COLUMNS, planRowSchema, planVersionSchema, VERSION_COLUMNS, VERSIONS_JOINED, type PlanRow } from './catalog-rows';
import { checkedContent, findPlan, findVersion, requireActiveMeters, versionsOf } from './plan-versions';

// The `plans` and `plan_versions` tables, for one organization at a time (every function runs
// under withOrg: row-level security). A plan's prices live in
// versions: drafts are edited freely, a published version never changes (a trigger enforces it),
// and subscriptions take published versions only.

export interface CreatePlanInput {
  organizationId: string;
  /** ^[a-z][a-z0-9_]{0,62}$, unique per organization. */
  key: string;
  /** Default: the key. */
  name?: string;
  description?: string;
  /** ISO 4217: version 1's currency. */
  currency: string;
  /** Version 1's prices, as PriceInput[] (checked here with checkPrices). */
  prices: unknown;
}

export interface PlanVersionRef {
  organizationId: string;
  planKey: string;
  version: number;
}

export interface CreatePlanVersionInput {
  organizationId: string;
  planKey: string;
  currency: string;
  prices: unknown;
}

export interface UpdatePlanVersionInput extends PlanVersionRef {
  /** Unset: unchanged. */
  currency?: string;
  /** Unset: unchanged; given, replaces every price. */
  prices?: unknown;
}

export interface ListPlansInput {
  organizationId: string;
  includeArchived?: boolean;
  pageSize?: number;
  pageToken?: string;
}

const nextVersionSchema = z.object({ next: z.number().int().positive() });

async function withVersions(db: Queryable, rows: readonly PlanRow[]): Promise<Plan[]> {
  const first = rows[0];
  if (!first) return [];
  const versions = await versionsOf(db, first.organizationId, rows.map((p) => p.id));
  return rows.map((plan) => ({ ...plan, versions: versions.filter((v) => v.planId === plan.id) }));
}

async function view(db: Queryable, plan: PlanRow): Promise<Plan> {
  const [shown] = await withVersions(db, [plan]);
  if (!shown) throw new Error(`plan ${plan.id} vanished`);
  return shown;
}

async function insertVersion(tx: Queryable, plan: PlanRow, version: number, content: { currency: string; prices: Price[] }): Promise<PlanVersion> {
  const { rows } = await tx.query(
    `WITH v AS (
       INSERT INTO plan_versions (organization_id, plan_id, version, currency, prices) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING *
     )
     SELECT ${VERSION_COLUMNS} FROM v JOIN plans p ON p.id = v.plan_id AND p.organization_id = v.organization_id`,
    [plan.organizationId, plan.id, version, content.currency, JSON.stringify(content.prices)],
  );
  const inserted = parseFirstRow('plans.insertVersion', planVersionSchema, rows);
  if (!inserted) throw new Error('INSERT … RETURNING returned no row');
  return inserted;
}

/** Creates a plan and its version 1, a draft holding the prices given. One transaction. */
async function create(db: Transactable, input: CreatePlanInput): Promise<Plan> {
  requireOrganizationId(input.organizationId);
  const key = planKey(input.key);
  const name = entityName(input.name?.trim() ? input.name : key);
  const description = planDescription(input.description ?? '');
  // The pure checks first: a bad price is refused before any round trip.
  checkCurrency(input.currency, 'currency');
  checkPrices(input.prices, 'prices');
  return withOrg(db, input.organizationId, async (tx) => {
    await requireOrganization(tx, input.organizationId);
    const content = await checkedContent(tx, input.organizationId, input);
    let plan: PlanRow | undefined;
    try {
      const { rows } = await tx.query(`INSERT INTO plans AS p (organization_id, key, name, description) VALUES ($1, $2, $3, $4) RETURNING ${PLAN_COLUMNS}`, [
        input.organizationId,
        key,
        name,
        description,
      ]);
      plan = parseFirstRow('plans.create', planRowSchema, rows);
    } catch (error) {
      if (isUniqueViolation(error)) throw new PolarisError('already_exists', 'plan_exists', `a plan with key ${JSON.stringify(key)} already exists in this organization`, 'key');
      throw error;
    }
    if (!plan) throw new Error('INSERT … RETURNING returned no row');
    await insertVersion(tx, plan, 1, content);
    return view(tx, plan);
  });
}

/** The organization's plan with this key, archived or not, with its versions newest first. */
async function get(db: Transactable, input: { organizationId: string; key: string }): Promise<Plan> {
  return withOrg(db, input.organizationId, async (tx) => view(tx, await findPlan(tx, input.organizationId, input.key)));
}

/** One page of an organization's plans, by key, each with its versions. */
async function list(db: Transactable, input: ListPlansInput): Promise<{ plans: Plan[]; nextPageToken?: string }> {
  requireOrganizationId(input.organizationId);
  const size = pageSize(input.pageSize);
  const after = decodePageToken(input.pageToken);
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT ${PLAN_COLUMNS} FROM plans p
        WHERE p.organization_id = $1 AND ($2 OR p.status = 'active') AND ($3::text IS NULL OR p.key > $3)
        ORDER BY p.key LIMIT $4`,
      [input.organizationId, input.includeArchived ?? false, after ?? null, size + 1],
    );
    const found = parseRows('plans.list', planRowSchema, rows);
    const page = found.slice(0, size);
    const last = page.at(-1);
    const plans = await withVersions(tx, page);
    return found.length > size && last ? { plans, nextPageToken: encodePageToken(last.key) } : { plans };
  });
}

/** A new draft version (the next number) with the currency and prices given in full. */
async function createVersion(db: Transactable, input: CreatePlanVersionInput): Promise<PlanVersion> {
  requireOrganizationId(input.organizationId);
  checkCurrency(input.currency, 'currency');
  checkPrices(input.prices, 'prices');
  return withOrg(db, input.organizationId, async (tx) => {
    // Locked: two versions created at once get consecutive numbers, not a unique violation.
    const plan = await findPlan(tx, input.organizationId, input.planKey, { lock: true, field: 'plan_key' });
    if (plan.status === 'archived') throw planArchived(plan.key, 'plan_key');
    const content = await checkedContent(tx, input.organizationId, input);
    const { rows } = await tx.query('SELECT COALESCE(max(version), 0) + 1 AS next FROM plan_versions WHERE organization_id = $1 AND plan_id = $2', [
      plan.organizationId,
      plan.id,
    ]);
    const next = parseFirstRow('plans.nextVersion', nextVersionSchema, rows)?.next ?? 1;
    return insertVersion(tx, plan, next, content);
  });
}

const published = (v: PlanVersion): PolarisError =>
  new PolarisError(
    'failed_precondition',
    'plan_version_published',
    `version ${v.version} of plan ${JSON.stringify(v.planKey)} is published and never changes; create a new version`,
    'version',
  );

/** Replaces a draft's currency or prices; a published version is refused (`plan_version_published`). */
async function updateVersion(db: Transactable, input: UpdatePlanVersionInput): Promise<PlanVersion> {
  requireOrganizationId(input.organizationId);
  const version = versionNumber(input.version, 'version');
  if (input.currency !== undefined) checkCurrency(input.currency, 'currency');
  if (input.prices !== undefined) checkPrices(input.prices, 'prices');
  return withOrg(db, input.organizationId, async (tx) => {
    const plan = await findPlan(tx, input.organizationId, input.planKey, { field: 'plan_key' });
    const current = await findVersion(tx, plan, version, { lock: true, field: 'version' });
    if (current.status === 'published') throw published(current);
    const content = await checkedContent(tx, input.organizationId, {
      currency: input.currency ?? current.currency,
      prices: input.prices ?? current.prices,
    });
    const { rows } = await tx.query(
      `WITH v AS (
         UPDATE plan_versions SET currency = $3, prices = $4::jsonb WHERE organization_id = $1 AND id = $2 RETURNING *
       )
       SELECT ${VERSION_COLUMNS} FROM v JOIN plans p ON p.id = v.plan_id AND p.organization_id = v.organization_id`,
      [current.organizationId, current.id, content.currency, JSON.stringify(content.prices)],
    );
    const updated = parseFirstRow('plans.updateVersion', planVersionSchema, rows);
    if (!updated) throw new Error('UPDATE … RETURNING returned no row');
    return updated;
  });
}

/**
 * Publishes a draft: from then on it never changes and subscriptions may take it. Its meters are
 * checked again (one may have been archived since the draft was written). Publishing twice is harmless.
 */
async function publishVersion(db: Transactable, ref: PlanVersionRef): Promise<PlanVersion> {
  requireOrganizationId(ref.organizationId);
  const version = versionNumber(ref.version, 'version');
  return withOrg(db, ref.organizationId, async (tx) => {
    const plan = await findPlan(tx, ref.organizationId, ref.planKey, { field: 'plan_key' });
    const current = await findVersion(tx, plan, version, { lock: true, field: 'version' });
    if (current.status === 'published') return current;
    if (plan.status === 'archived') throw planArchived(plan.key, 'plan_key');
    await requireActiveMeters(tx, plan.organizationId, current.prices, 'prices');
    const { rows } = await tx.query(
      `WITH v AS (
         UPDATE plan_versions SET status = 'published', published_at = now() WHERE organization_id = $1 AND id = $2 RETURNING *
       )
       SELECT ${VERSION_COLUMNS} FROM v JOIN plans p ON p.id = v.plan_id AND p.organization_id = v.organization_id`,
      [current.organizationId, current.id],
    );
    const updated = parseFirstRow('plans.publishVersion', planVersionSchema, rows);
    if (!updated) throw new Error('UPDATE … RETURNING returned no row');
    return updated;
  });
}

/**
 * Archives a plan: it takes no new subscriptions or versions; subscriptions on it go on as they
 * are. Archiving twice is harmless.
 */
async function archive(db: Transactable, input: { organizationId: string; key: string }): Promise<Plan> {
  requireOrganizationId(input.organizationId);
  return withOrg(db, input.organizationId, async (tx) => {
    const plan = await findPlan(tx, input.organizationId, input.key, { lock: true });
    if (plan.status === 'archived') return view(tx, plan);
    const { rows } = await tx.query(
      `UPDATE plans AS p SET status = 'archived', updated_at = now() WHERE p.organization_id = $1 AND p.id = $2 RETURNING ${PLAN_COLUMNS}`,
      [plan.organizationId, plan.id],
    );
    const archived = parseFirstRow('plans.archive', planRowSchema, rows);
    if (!archived) throw new Error('UPDATE … RETURNING returned no row');
    return view(tx, archived);
  });
}

/** A version by its id (what a subscription phase or an invoice holds), for the rating engine. */
async function getVersionById(db: Transactable, organizationId: string, id: string): Promise<PlanVersion> {
  requireOrganizationId(organizationId);
  const notFound = new PolarisError('not_found', 'plan_version_not_found', `no plan version with id ${JSON.stringify(id.slice(0, 64))} in this organization`, 'plan_version_id');
  if (!isUuid(id)) throw notFound;
  const { rows } = await withOrg(db, organizationId, (tx) =>
    tx.query(`SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_JOINED} WHERE v.organization_id = $1 AND v.id = $2::uuid`, [organizationId, id]),
  );
  const found = parseFirstRow('plans.getVersionById', planVersionSchema, rows);
  if (!found) throw notFound;
  return found;
}

/** The `plans` and `plan_versions` tables, per organization: the only code that writes them. */
export const plans = { create, get, list, createVersion, updateVersion, publishVersion, archive, getVersionById };
