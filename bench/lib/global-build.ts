/**
 * vitest globalSetup for `npm run bench`: at the end, rewrite the summary
 * table from every bench's headline figures. At the start, compile the platform
 * (`PLATFORM_ENTRIES`) and every child program under bench/lib once, into one
 * temporary folder that all benchmark files then share (see
 * `buildChildren` in media-build.ts), instead of one tsc run per file.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileInto, PLATFORM_ENTRIES, REPO, SHARED_BUILD_ENV } from './media-build.js';
import { writeSummarySection } from './readme-section.js';

export default async function setup(): Promise<() => Promise<void>> {
  const entries = [...PLATFORM_ENTRIES, ...readdirSync(path.join(REPO, 'bench/lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => `bench/lib/${f}`)];
  const out = await mkdtemp(path.join(tmpdir(), 'sautikit-bench-build-'));
  const build = await compileInto(out, entries);
  process.env[SHARED_BUILD_ENV] = out;
  return async () => {
    // Every file has written its own block; the summary gathers their headline figures.
    writeSummarySection();
    delete process.env[SHARED_BUILD_ENV];
    await build.remove();
  };
}
