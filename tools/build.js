// Builds dist/ from src/ with tsc (incremental: its state is kept in
// dist/.tsbuildinfo, so deleting dist/ starts afresh) and makes the CLI
// executable. `npm run build` always runs tsc; `--if-stale` (npm start's
// prestart and npm install's prepare) runs it only when a source or tsconfig
// is newer than the last build, so an unchanged checkout starts at once.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Written after each successful build: its mtime is "built at". */
const stamp = path.join(root, 'dist', '.build-stamp');
const bin = path.join(root, 'dist', 'cli', 'bin.js');

/** The newest mtime under `dir`: files and folders (a deleted source changes its folder's mtime). */
function newestUnder(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function isStale() {
  if (!existsSync(stamp) || !existsSync(bin)) return true;
  const inputs = Math.max(newestUnder(path.join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(path.join(root, f)).mtimeMs));
  return inputs > statSync(stamp).mtimeMs;
}

function tscPath() {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write('sautikit: cannot build dist/: TypeScript is not installed (run `npm install` without --omit=dev)\n');
    process.exit(1);
  }
}

if (process.argv.includes('--if-stale')) {
  if (!isStale()) process.exit(0);
  process.stderr.write('sautikit: building dist/ from src/ (tsc), as the sources changed since the last build…\n');
}
const tsc = spawnSync(process.execPath, [tscPath(), '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
chmodSync(bin, 0o755);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
