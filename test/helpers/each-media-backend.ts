import { afterAll, beforeAll, describe } from 'vitest';
import type { MediaBackend } from '../../src/media/call-media.js';
import { MediaEngine } from '../../src/media/engine.js';
import { LocalMediaBackend } from '../../src/media/local-media-backend.js';
import { ShardedMediaBackend } from '../../src/media/shard/sharded-media-backend.js';
import { compileShardWorker } from './shard-worker.js';

export type MediaBackendKind = 'in process' | 'on two worker threads';

/** The backends every `CallMedia` behaviour runs on, with a port range of their own each. */
const backends: { kind: MediaBackendKind; portMin: number; portMax: number }[] = [
  { kind: 'in process', portMin: 31600, portMax: 31699 },
  { kind: 'on two worker threads', portMin: 31700, portMax: 31799 },
];

/**
 * A suite run once per media backend: `LocalMediaBackend` (the in-process
 * `MediaEngine`) and `ShardedMediaBackend` with two workers, each built with
 * RTP timeouts off (a test turns them on per leg) on loopback, as the store
 * suites run once per dialect (`each-dialect.ts`).
 */
export function describeOnEachMediaBackend(title: string, body: (backend: () => MediaBackend, kind: MediaBackendKind) => void): void {
  describe.each(backends)(`${title} $kind`, ({ kind, portMin, portMax }) => {
    let backend: MediaBackend | undefined;
    let worker: Awaited<ReturnType<typeof compileShardWorker>> | undefined;
    beforeAll(async () => {
      const options = { portMin, portMax, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 };
      if (kind === 'in process') {
        backend = new LocalMediaBackend(new MediaEngine(options));
      } else {
        // A worker thread runs JavaScript, not the TypeScript sources: compile the shard worker once.
        worker = await compileShardWorker();
        backend = new ShardedMediaBackend({ ...options, workers: 2, workerUrl: worker.url });
      }
    }, 120_000);
    afterAll(async () => {
      await backend?.close();
      await worker?.remove();
    });
    body(() => backend!, kind);
  });
}
