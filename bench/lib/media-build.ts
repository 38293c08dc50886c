/**
 * Compile the benchmark children (and the `src/media` modules they import)
 * with the repo's TypeScript into a temporary directory, so they run as
 * production JavaScript under plain Node. Under vitest the media code would
 * run through vite's module runner, which costs several times more on the
 * per-sample loops (see bench/README.md), and `tsx` is not installed.
 * Nothing is written inside the repository.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchBuild {
  /** Absolute path of a compiled file, from its repo-relative `.ts` path. */
  js(relativeTs: string): string;
  remove(): Promise<void>;
}

/**
 * `npm run bench` compiles `src/cli/bin.ts` and every `bench/lib` child once,
 * before the first benchmark file (bench/lib/global-build.ts), and passes the
 * folder here: a file whose entries are all there reuses it instead of
 * compiling again.
 */
export const SHARED_BUILD_ENV = 'SAUTIKIT_BENCH_BUILD_DIR';

/**
 * The platform's programs: `sautikit` itself, and the media worker it loads by
 * URL (`--media-workers`), which no import reaches, so tsc would leave it out.
 */
export const PLATFORM_ENTRIES = ['src/cli/bin.ts', 'src/media/shard/shard-worker.ts'];

/** Compile `entries` (repo-relative .ts files) and everything they import. */
export async function buildChildren(entries: string[]): Promise<BenchBuild> {
  const shared = process.env[SHARED_BUILD_ENV];
  if (shared && entries.every((e) => existsSync(path.join(shared, e.replace(/\.ts$/, '.js'))))) {
    return { js: (relativeTs) => path.join(shared, relativeTs.replace(/\.ts$/, '.js')), remove: async () => undefined };
  }
  return compileInto(await mkdtemp(path.join(tmpdir(), 'sautikit-media-bench-')), entries);
}

/** Compile `entries` into `out` (which must exist), linking the repo's node_modules beside them. */
export async function compileInto(out: string, entries: string[]): Promise<BenchBuild> {
  // Packages (pino, eSpeak NG) resolve by walking up from the compiled file: give them the repo's node_modules.
  await symlink(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  // Files on the command line make tsc ignore tsconfig.json: the same options are spelled out.
  const options = [
    '--outDir', out, '--rootDir', REPO,
    '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--lib', 'ES2023', '--types', 'node',
    '--strict', '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--verbatimModuleSyntax', '--isolatedModules',
    '--sourceMap', 'false', '--declaration', 'false',
  ];
  const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, ...options, ...entries.map((e) => path.join(REPO, e))], { cwd: REPO });
  } catch (error) {
    // Type errors elsewhere (another engineer's work in progress) still emit JavaScript; only a missing output is fatal.
    const stdout = (error as { stdout?: string }).stdout ?? '';
    if (stdout) console.warn(`tsc reported (output still used):\n${stdout.slice(0, 2000)}`);
  }
  return {
    js: (relativeTs) => path.join(out, relativeTs.replace(/\.ts$/, '.js')),
    remove: () => rm(out, { recursive: true, force: true }),
  };
}
