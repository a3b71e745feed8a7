import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { CliError } from '@polaris/cli';
import type { Requirement } from './service';

async function hasBinary(binary: string): Promise<boolean> {
  if (path.isAbsolute(binary)) return existsSync(binary);
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', binary], { reject: false });
  return result.exitCode === 0;
}

/**
 * Installs the Debian packages whose binaries are missing, with one `apt-get update` and one
 * `apt-get install`. Nothing runs when every binary is already there.
 */
export async function ensurePackages(requirements: readonly Requirement[], log: (line: string) => void): Promise<void> {
  const missing: Requirement[] = [];
  for (const r of requirements) {
    if (!(await hasBinary(r.binary))) missing.push(r);
  }
  const packages = [...new Set(missing.map((r) => r.aptPackage))];
  if (packages.length === 0) return;
  log(`install: missing ${missing.map((r) => r.binary).join(', ')}; apt-get install ${packages.join(' ')}`);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !(await hasBinary('sudo'))) {
    throw new CliError(`install: not root and no sudo; install these Debian packages first: ${packages.join(' ')}`);
  }
  const prefix = isRoot ? [] : ['sudo', '-n'];
  const run = async (args: string[]) => {
    const [file, ...rest] = [...prefix, ...args];
    const result = await execa(file ?? 'apt-get', rest, {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
      all: true,
      reject: false,
    });
    if (result.exitCode !== 0) {
      const tail = (result.all ?? '').split('\n').slice(-20).join('\n  ');
      throw new CliError(`install: \`${args.join(' ')}\` failed (exit ${result.exitCode}):\n  ${tail}`);
    }
  };
  await run(['apt-get', 'update']);
  await run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages]);
  for (const r of missing) {
    if (!(await hasBinary(r.binary))) {
      throw new CliError(`install: ${r.aptPackage} is installed but ${r.binary} is still missing`);
    }
  }
}

/**
 * Copies the Kafka broker jars from Maven Central into `libsDir`. A marker holding the pom's hash
 * makes this a no-op until the pom changes; on a change the folder is emptied first so no jar of
 * an old version stays on the classpath.
 */
export async function ensureKafkaLibs(pom: string, libsDir: string, log: (line: string) => void): Promise<void> {
  const marker = path.join(libsDir, '.pom-sha256');
  const wanted = createHash('sha256').update(readFileSync(pom)).digest('hex');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted) return;
  log(`kafka: resolving broker jars with maven (${path.relative(process.cwd(), pom) || pom})`);
  rmSync(libsDir, { recursive: true, force: true });
  mkdirSync(libsDir, { recursive: true });
  const result = await execa(
    'mvn',
    ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`, '-DincludeScope=runtime'],
    { all: true, reject: false },
  );
  if (result.exitCode !== 0) {
    const tail = (result.all ?? '').split('\n').slice(-20).join('\n  ');
    throw new CliError(`kafka: maven could not resolve the broker jars (exit ${result.exitCode}):\n  ${tail}`);
  }
  writeFileSync(marker, `${wanted}\n`);
}
