/**
 * `npm run bench`: every benchmark in this folder, one child process each, in turn
 * (they would otherwise compete for this machine's two cores). Results go to stdout
 * and into BENCHMARKS.md by hand, with the command and the machine.
 * `npm run bench -- fanout` runs only the files whose name contains "fanout".
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('lib'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
let failed = false;
for (const file of files) {
  process.stdout.write(`\n### bench/${file}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${file}`], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
