import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The INTERNAL_AUTH_SECRET of the services this checkout launches (demo, e2e, benches): random,
 * made once and kept in `.stack/internal-auth-secret` (mode 0600), so that every process that
 * starts or calls them — a test in another worker included — signs with the same one, and no
 * secret is written in the source. The services themselves have no default.
 */
export function localInternalAuthSecret(repoRoot: string): string {
  const dir = join(repoRoot, '.stack');
  const file = join(dir, 'internal-auth-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true });
  // Written whole under a private name, then linked into place: a racing process either wins
  // the link or reads the winner's complete file, never a half-written one.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, randomBytes(48).toString('base64'), { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(draft, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}
