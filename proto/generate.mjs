// Regenerates proto/gen from the .proto contracts with npm-shipped buf + ts-proto.
// gen/ is a build artefact (git-ignored): never edit it by hand.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buf = join(here, '..', 'node_modules', '.bin', 'buf');
rmSync(join(here, 'gen'), { recursive: true, force: true });
execFileSync(buf, ['generate'], { cwd: here, stdio: 'inherit' });
