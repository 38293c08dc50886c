/**
 * What the call timeline (SPEC §14) costs: noting an entry on the call's
 * path (an in-memory push, timed per entry over 100 000 entries shaped like
 * a call's), and writing one 200-entry batch (one INSERT) on SQLite (a file
 * in a temporary folder, WAL, as the platform opens it) and on PostgreSQL
 * (the test server, when it answers). Medians of 5 runs (TIMELINE_RUNS);
 * about 20 s. Writes its table into bench/README.md ("Call timeline").
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/call-timeline.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { bench, describe } from 'vitest';
import type { TimelineEntry, TimelineType } from '../src/shared/timeline.js';
import { Store } from '../src/store/store.js';
import { TimelineWriter } from '../src/store/timeline-writer.js';
import { markdownTable, median, writeReadmeSection } from './lib/readme-section.js';

const runs = Number(process.env['TIMELINE_RUNS'] ?? 5);
const postgresUrl = process.env['SAUTIKIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const clock = { now: () => new Date() };

/** A call's entries as they come: a webhook exchange with its bodies, actions, digits, states (about 300 bytes of JSON each on average). */
function entryOf(i: number, callId: string): { type: TimelineType; data: Record<string, unknown> } {
  switch (i % 6) {
    case 0: return { type: 'webhook.request', data: { url: 'https://yourapp.example.com/ivr/welcome?step=1', method: 'POST', body: { CallId: callId, From: '+254711000001', To: '+254700000001', Direction: 'inbound', CallStatus: 'ringing', AccountId: 'ws_0mhx1z8kq0000d2f7g3hb' } } };
    case 1: return { type: 'webhook.response', data: { url: 'https://yourapp.example.com/ivr/welcome?step=1', status: 200, duration_ms: 38, content_type: 'application/json', body: '{"actions":[{"getDigits":{"numDigits":1,"timeout":5,"action":"https://yourapp.example.com/ivr/route","nested":[{"say":{"text":"Welcome to Acme Corp. Press 1 for sales."}}]}}]}' } };
    case 2: return { type: 'action.start', data: { index: 0, name: 'getDigits' } };
    case 3: return { type: 'digits', data: { digits: '1', reason: 'numDigits' } };
    case 4: return { type: 'action.end', data: { index: 0, name: 'getDigits', result: 'replace' } };
    default: return { type: 'status', data: { status: 'in-progress' } };
  }
}

/** Microseconds per `note` (the only timeline work on the call's path), median of runs of 100 000. */
function enqueueMicros(store: Store): number[] {
  const perEntry: number[] = [];
  const count = 100_000;
  const entries = Array.from({ length: 60 }, (_, i) => entryOf(i, 'call_0mhx2k9a70000q3v8r1ty'));
  for (let run = 0; run < runs + 1; run++) {
    // No write starts during the loop: a batch larger than the run, an interval longer than it.
    const writer = new TimelineWriter(store.timeline, { clock, batchSize: count + 1, maxQueued: count + 1, flushIntervalMs: 3_600_000 });
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const e = entries[i % 60]!;
      // A fresh object per entry, as the engine notes them.
      writer.note(`call_${i % 500}`, e.type, { ...e.data });
    }
    const micros = Number(process.hrtime.bigint() - started) / 1000 / count;
    // The first run warms up; the queued entries are never written (this measures the push alone).
    if (run > 0) perEntry.push(micros);
  }
  return perEntry;
}

/** Milliseconds per 200-entry batch (JSON of each entry and one INSERT, what a flush does), median of `runs` × 20 batches. */
async function batchMillis(store: Store): Promise<number[]> {
  const perBatch: number[] = [];
  let seq = Date.now() * 1000;
  for (let run = 0; run < runs + 1; run++) {
    const times: number[] = [];
    for (let b = 0; b < 20; b++) {
      const callId = `call_b${run}_${b}`;
      const entries: TimelineEntry[] = Array.from({ length: 200 }, (_, i) => {
        const e = entryOf(i, callId);
        return { callId: `${callId}_${i % 10}`, seq: seq++, at: new Date().toISOString(), type: e.type, data: e.data };
      });
      // Timed as the writer's flush does it: serialise each entry's fields, then one INSERT.
      const started = process.hrtime.bigint();
      await store.timeline.insertMany(entries.map((e) => ({ ...e, data: JSON.stringify(e.data) })));
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    if (run > 0) perBatch.push(median(times));
  }
  return perBatch;
}

async function postgresUp(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const range = (values: number[], digits: number): string =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

let measured = false;

describe('call timeline', () => {
  bench('note an entry; write a 200-entry batch on SQLite and PostgreSQL', async () => {
    if (measured) return;
    measured = true;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-timeline-bench-'));
    const rows: string[][] = [];
    try {
      const sqlite = await Store.open({ url: path.join(dir, 'bench.db') });
      try {
        rows.push(['note one entry (in-memory queue, the call\'s only cost), µs', range(enqueueMicros(sqlite), 2)]);
        rows.push(['write a batch of 200 entries (JSON + one INSERT), SQLite (file, WAL), ms', range(await batchMillis(sqlite), 2)]);
      } finally {
        await sqlite.close();
      }
      if (await postgresUp()) {
        const schema = `bench_timeline_${process.pid}`;
        const postgres = await Store.open({ url: postgresUrl, schema });
        try {
          rows.push(['write a batch of 200 entries (JSON + one INSERT), PostgreSQL (loopback), ms', range(await batchMillis(postgres), 2)]);
        } finally {
          await postgres.close();
          const client = new pg.Client({ connectionString: postgresUrl });
          await client.connect();
          await client.query(`drop schema if exists ${schema} cascade`);
          await client.end();
        }
      } else {
        rows.push(['write a batch of 200 entries, PostgreSQL', `not measured: no server at ${postgresUrl}`]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const markdown = `Median (min–max) of ${runs} runs after one warm-up; entries shaped like an IVR call's (webhook request and response with bodies, actions, digits, states).\n\n${markdownTable(['measured', 'figure'], rows)}`;
    console.log(`\n${markdown}\n`);
    writeReadmeSection('call-timeline', markdown, { heading: 'Call timeline' });
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
});
