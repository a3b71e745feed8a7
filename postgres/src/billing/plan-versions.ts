import { checkCurrency, checkPrices, type Price } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import type { PlanVersion } from './billing-records';
import { planArchived, planKey as checkPlanKey, planNotFound, planVersionNotFound } from './catalog-input';
import { PLAN_COLUMNS, planRowSchema, planVersionSchema, VERSION_COLUMNS, VERSIONS_JOINED, type PlanRow } from './catalog-rows';

// Plan versions: the checks a version's content passes before it is stored, and the lookups the
// plans and subscriptions repositories share. Every query is bound to the organization.

const slugSchema = z.object({ slug: z.string() });

/**
 * Every metered price must read an active meter of the organization: a price over a meter that
 * does not exist (or another org's) would bill nothing, forever, without anyone noticing.
 */
export async function requireActiveMeters(db: Queryable, organizationId: string, prices: readonly Price[], field: string): Promise<void> {
  const slugs = [...new Set(prices.flatMap((p) => (p.meterSlug === undefined ? [] : [p.meterSlug])))];
  if (slugs.length === 0) return;
  const { rows } = await db.query(`SELECT slug FROM meters WHERE organization_id = $1 AND slug = ANY($2::text[]) AND status = 'active'`, [organizationId, slugs]);
  const active = new Set(parseRows('plans.activeMeters', slugSchema, rows).map((r) => r.slug));
  const missing = prices.findIndex((p) => p.meterSlug !== undefined && !active.has(p.meterSlug));
  if (missing >= 0) {
    const slug = prices[missing]?.meterSlug ?? '';
    throw new PolarisError(
      'invalid_argument',
      'unknown_meter',
      `${field}[${missing}].meter_slug: no active meter ${JSON.stringify(slug)} in this organization`,
      `${field}[${missing}].meter_slug`,
    );
  }
}

/** A version's currency and prices, checked (checkCurrency, checkPrices, the meters) as they will be stored. */
export async function checkedContent(
  db: Queryable,
  organizationId: string,
  input: { currency: string; prices: unknown },
): Promise<{ currency: string; prices: Price[] }> {
  const currency = checkCurrency(input.currency, 'currency');
  const prices = checkPrices(input.prices, 'prices');
  await requireActiveMeters(db, organizationId, prices, 'prices');
  return { currency, prices };
}

/** The organization's plan with this key; `lock` holds it for the rest of the transaction. */
export async function findPlan(db: Queryable, organizationId: string, key: string, opts: { lock?: boolean; field?: string } = {}): Promise<PlanRow> {
  const field = opts.field ?? 'key';
  try {
    checkPlanKey(key, field);
  } catch {
    throw planNotFound(key, field);
  }
  const { rows } = await db.query(`SELECT ${PLAN_COLUMNS} FROM plans p WHERE p.organization_id = $1 AND p.key = $2${opts.lock ? ' FOR UPDATE' : ''}`, [
    organizationId,
    key,
  ]);
  const plan = parseFirstRow('plans.find', planRowSchema, rows);
  if (!plan) throw planNotFound(key, field);
  return plan;
}

/** The versions of these plans, newest first. */
export async function versionsOf(db: Queryable, organizationId: string, planIds: readonly string[]): Promise<PlanVersion[]> {
  if (planIds.length === 0) return [];
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_JOINED} WHERE v.organization_id = $1 AND v.plan_id = ANY($2::uuid[]) ORDER BY v.plan_id, v.version DESC`,
    [organizationId, planIds],
  );
  return parseRows('plans.versions', planVersionSchema, rows);
}

/** One version of a plan; `lock` holds it for the rest of the transaction. */
export async function findVersion(db: Queryable, plan: PlanRow, version: number, opts: { lock?: boolean; field: string }): Promise<PlanVersion> {
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_JOINED} WHERE v.organization_id = $1 AND v.plan_id = $2 AND v.version = $3${opts.lock ? ' FOR UPDATE OF v' : ''}`,
    [plan.organizationId, plan.id, version],
  );
  const found = parseFirstRow('plans.findVersion', planVersionSchema, rows);
  if (!found) throw planVersionNotFound(plan.key, version, opts.field);
  return found;
}

/**
 * The published version a subscription takes: `version`, or the newest published one when 0. A
 * draft, or a plan with nothing published, is refused (`plan_version_not_published`), as is an
 * archived plan: it takes no new subscribers.
 */
export async function publishedVersion(db: Queryable, organizationId: string, key: string, version: number): Promise<PlanVersion> {
  const plan = await findPlan(db, organizationId, key, { field: 'plan_key' });
  if (plan.status === 'archived') throw planArchived(key, 'plan_key');
  if (version !== 0) {
    const found = await findVersion(db, plan, version, { field: 'plan_version' });
    if (found.status !== 'published') {
      throw new PolarisError(
        'failed_precondition',
        'plan_version_not_published',
        `version ${version} of plan ${JSON.stringify(key)} is a draft; publish it first`,
        'plan_version',
      );
    }
    return found;
  }
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_JOINED}
      WHERE v.organization_id = $1 AND v.plan_id = $2 AND v.status = 'published' ORDER BY v.version DESC LIMIT 1`,
    [organizationId, plan.id],
  );
  const newest = parseFirstRow('plans.newestPublished', planVersionSchema, rows);
  if (!newest) {
    throw new PolarisError('failed_precondition', 'plan_version_not_published', `plan ${JSON.stringify(key)} has no published version yet`, 'plan_version');
  }
  return newest;
}
