import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './private-services';

const execFileAsync = promisify(execFile);

/** The tiny Go main that links Benthos' io and pure components (collector/connect/benthos). */
export const BENTHOS_SOURCE = join(repoRoot, 'collector', 'connect', 'benthos');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go'];
const CACHE = join(repoRoot, '.stack', 'benthos');
/** A cold build (module downloads included) takes 40 s on 2 idle cores, over 3 min on busy ones. */
const BUILD_DEADLINE_MS = 9 * 60_000;

/**
 * The Benthos binary that runs the collector/connect configs in tests, built from the Go module
 * proxy once per version of its sources and kept at .stack/benthos/<hash>/benthos. Any number
 * of test files (threads or processes) may ask at once: one builds, under a lock directory, into
 * a temporary file renamed into place; the others wait for the binary to appear.
 */
export async function benthosBinary(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) hash.update(`${file}\0`).update(readFileSync(join(BENTHOS_SOURCE, file)));
  const dir = join(CACHE, hash.digest('hex').slice(0, 16));
  const binary = join(dir, 'benthos');
  const lock = `${dir}.lock`;
  const deadline = Date.now() + BUILD_DEADLINE_MS;
  mkdirSync(CACHE, { recursive: true });

  while (!existsSync(binary)) {
    if (takeLock(lock)) {
      try {
        if (!existsSync(binary)) await build(dir, binary);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      if (Date.now() > deadline) throw new Error(`timed out waiting for another process to build ${binary} (lock ${lock})`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return binary;
}

/** mkdir is atomic: whoever creates the directory builds. A lock left by a dead process is taken over. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner = 0;
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // Not written yet, or the build just ended and took its lock away: look again.
    }
    if (owner > 0 && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function build(dir: string, binary: string): Promise<void> {
  const partial = `${binary}.${process.pid}.partial`;
  const env: NodeJS.ProcessEnv = { ...process.env, CGO_ENABLED: '0' };
  // Go keeps its caches under $HOME (or XDG_CACHE_HOME); without either, under .stack/ with the
  // module cache writable, so that removing .stack/ works.
  const flags = ['-trimpath', '-buildvcs=false', '-ldflags=-s -w'];
  if (!env.HOME && !env.XDG_CACHE_HOME && !env.GOCACHE) {
    env.GOCACHE = join(CACHE, 'go-build');
    env.GOMODCACHE = join(CACHE, 'go-mod');
    flags.push('-modcacherw');
  }
  const go = await findGo(env);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  try {
    await execFileAsync(go, ['build', ...flags, '-o', partial, '.'], { cwd: BENTHOS_SOURCE, env, timeout: BUILD_DEADLINE_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    rmSync(partial, { force: true });
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`go build of ${BENTHOS_SOURCE} failed: ${(stderr ?? '').trim().split('\n').slice(-20).join('\n') || message}`, { cause: err });
  }
  renameSync(partial, binary);
  console.log(`benthos: built ${binary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Builds of older sources are never used again (24 MB each).
  for (const entry of readdirSync(CACHE)) {
    if (/^[0-9a-f]{16}$/.test(entry) && join(CACHE, entry) !== dir) rmSync(join(CACHE, entry), { recursive: true, force: true });
  }
}

/** `go` on PATH, else where the official archive and GOROOT put it. */
async function findGo(env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = ['go', ...(env.GOROOT ? [join(env.GOROOT, 'bin', 'go')] : []), '/usr/local/go/bin/go'];
  let failure: unknown;
  for (const go of candidates) {
    try {
      await execFileAsync(go, ['version'], { env });
      return go;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failure ??= err;
    }
  }
  throw new Error(
    `${failure ? `\`go version\` failed: ${(failure as Error).message}` : 'Go is not installed (no `go` on PATH nor in /usr/local/go/bin)'}: the Redpanda ` +
      `Connect tests build a Benthos binary from ${BENTHOS_SOURCE} with Go ${goVersionRequired()} or newer, from the Go module proxy.`,
    { cause: failure },
  );
}

function goVersionRequired(): string {
  return /^go (\S+)$/m.exec(readFileSync(join(BENTHOS_SOURCE, 'go.mod'), 'utf8'))?.[1] ?? '(see go.mod)';
}
