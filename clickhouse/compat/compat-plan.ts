import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';

/**
 * One plan of SQL, run unchanged on two engines: the local ClickHouse server (18.16, over HTTP)
 * and a current ClickHouse engine embedded by chdb-core (clickhouse/compat/chdb_check.py).
 */
export interface CompatPlan {
  /** Created first, then every statement and check runs inside it. */
  database: string;
  /** DDL and inserts, in order. A failure is recorded, not thrown. */
  statements: string[];
  /** Read-only queries whose JSONEachRow rows are compared across engines. */
  checks: { name: string; sql: string; expect_rows?: unknown[] }[];
}

export type Row = Record<string, unknown>;

export interface CompatResult {
  version: string;
  statements: { error?: string }[];
  checks: { name: string; rows?: Row[]; error?: string; match?: boolean }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
/** Made by `polaris_chdb` in scripts/bootstrap.sh (which `npm test` and CI run). */
export const CHDB_PYTHON = path.join(repoRoot, '.stack', 'chdb-venv', 'bin', 'python');
const CHDB_CHECK = path.join(here, 'chdb_check.py');

/** Runs the plan on chdb-core in a fresh temporary session. Rejects only on a harness failure. */
export function runOnChdb(plan: CompatPlan): Promise<CompatResult> {
  if (!existsSync(CHDB_PYTHON)) {
    return Promise.reject(new Error(`${CHDB_PYTHON} is missing: run \`bash -c 'source scripts/bootstrap.sh && polaris_chdb'\` (npm test does it)`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(CHDB_PYTHON, [CHDB_CHECK], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`chdb_check.py exited ${code}: ${Buffer.concat(err).toString()}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as CompatResult);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    child.stdin.end(JSON.stringify(plan));
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Runs the same plan on a ClickHouse server, in `plan.database`, which it drops afterwards. */
export async function runOnServer(plan: CompatPlan, url: string): Promise<CompatResult> {
  const admin = createClient({ url });
  const client = createClient({ url, database: plan.database });
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS \`${plan.database}\`` });
    const versionRows = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
    const result: CompatResult = { version: versionRows[0]?.v ?? '?', statements: [], checks: [] };
    for (const query of plan.statements) {
      try {
        await client.command({ query });
        result.statements.push({});
      } catch (error) {
        result.statements.push({ error: message(error) });
      }
    }
    for (const check of plan.checks) {
      try {
        const rows = await (await client.query({ query: check.sql, format: 'JSONEachRow' })).json<Row>();
        result.checks.push({ name: check.name, rows });
      } catch (error) {
        result.checks.push({ name: check.name, error: message(error) });
      }
    }
    return result;
  } finally {
    await client.close();
    await admin.command({ query: `DROP DATABASE IF EXISTS \`${plan.database}\`` });
    await admin.close();
  }
}
