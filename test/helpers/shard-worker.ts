import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A worker thread runs JavaScript, not the TypeScript sources the tests run:
 * compile the media shard worker (and what it imports) into a temporary
 * folder. `remove()` deletes it.
 */
export async function compileShardWorker(): Promise<{ url: URL; remove(): Promise<void> }> {
  const out = await mkdtemp(path.join(tmpdir(), 'sautikit-shard-worker-'));
  await symlink(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  const options = ['--outDir', out, '--rootDir', REPO, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--lib', 'ES2023', '--types', 'node', '--strict', '--esModuleInterop', '--skipLibCheck', '--verbatimModuleSyntax', '--sourceMap', 'false', '--declaration', 'false'];
  await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), ...options, path.join(REPO, 'src/media/shard/shard-worker.ts')], { cwd: REPO }).catch((error: { stdout?: string }) => {
    // Type errors elsewhere in the tree still emit JavaScript; a missing file fails when the worker starts.
    if (error.stdout) console.warn(error.stdout.slice(0, 1000));
  });
  return { url: pathToFileURL(path.join(out, 'src/media/shard/shard-worker.js')), remove: () => rm(out, { recursive: true, force: true }) };
}
