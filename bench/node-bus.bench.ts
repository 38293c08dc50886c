/**
 * What carrying a request to the node holding a call costs (SPEC §16): one
 * NodeBus round trip (typed message, parsed on both sides, a call view as the
 * answer) beside a bare NATS request/reply of the same sizes, and how soon a
 * request to a node that is not running is refused (NATS "no responders",
 * the `409 call_not_active` path). Sequential requests over loopback to the
 * NATS server at SAUTIKIT_TEST_NATS_URL (default nats://127.0.0.1:4222);
 * median (min–max) of 5 runs of 500. A few seconds. Writes its table into
 * bench/README.md ("Several nodes: requests to the node holding a call").
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/node-bus.bench.ts`.
 */
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { bench, describe } from 'vitest';
import { NodeBus } from '../src/cluster/node-bus.js';
import { silentLogger } from '../src/shared/log.js';
import { median, writeReadmeSection } from './lib/readme-section.js';

const url = process.env['SAUTIKIT_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const runs = 5;
const perRun = 500;
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** About the size of a call's view (PATCH /v1/calls/{id}'s answer). */
const callView = {
  id: 'call_0mx7elftl0000goa73uy5', direction: 'inbound', from: '+254711000000', to: '+254700000001', status: 'in-progress', parent_call_id: null,
  number_id: 'num_0mx7elftl0000goa73uy5', conference: null, created_at: '2026-12-03T10:20:00.000Z', ringing_at: '2026-12-03T10:20:00.100Z',
  answered_at: '2026-12-03T10:20:00.200Z', ended_at: null, duration_seconds: null, ring_seconds: 0, hangup_cause: null, hangup_by: null, price: null,
  rate_per_minute: '1.00', currency: 'KES', client_request_id: null, metadata: { campaign: 'march' }, recording: null, answered_by: null,
};
const control = { kind: 'call.control' as const, workspaceId: 'ws_0mx7elftl0000goa73uy5', callId: callView.id, body: { actions: [{ say: { text: 'Hello from another node.' } }, { hangup: {} }] } };

async function timed(run: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < 50; i++) await run();
  const perRequest: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    for (let i = 0; i < perRun; i++) await run();
    perRequest.push(((performance.now() - started) * 1000) / perRun);
  }
  return { median: median(perRequest), min: Math.min(...perRequest), max: Math.max(...perRequest) };
}

const format = (r: { median: number; min: number; max: number }) => `${r.median.toFixed(0)} (${r.min.toFixed(0)}–${r.max.toFixed(0)})`;

let measured = false;

describe('node bus', () => {
  bench('request to the node holding a call (sequential round trips, median of runs)', async () => {
    if (measured) return;
    measured = true;
    const holder = await NodeBus.connect({ url, nodeId: `bench-a-${tag}`, logger: silentLogger });
    const asker = await NodeBus.connect({ url, nodeId: `bench-b-${tag}`, logger: silentLogger });
    const raw = await connect({ servers: url });
    try {
      await holder.serve(async () => callView);
      const rawSubject = `bench.raw.${tag}`;
      const answer = JSON.stringify({ ok: true, result: callView });
      raw.subscribe(rawSubject, { callback: (_e, msg) => void msg.respond(answer) });
      const request = JSON.stringify(control);
      const bare = await timed(() => raw.request(rawSubject, request, { timeout: 2000 }));
      const bus = await timed(() => asker.request(`bench-a-${tag}`, control));
      const refused = await timed(() => asker.request(`bench-gone-${tag}`, control).catch(() => undefined));
      const markdown = [
        `Median (min–max) of ${runs} runs of ${perRun} sequential requests after 50 warm-up; NATS on loopback; the answer a call view (~${answer.length} bytes).`,
        '',
        '| measured | µs per request |',
        '| --- | --- |',
        `| bare NATS request/reply, same payloads (floor) | ${format(bare)} |`,
        `| NodeBus request: \`call.control\` parsed and answered by the holding node, reply parsed | ${format(bus)} |`,
        `| NodeBus request to a node not running (no responders → 409 \`call_not_active\`) | ${format(refused)} |`,
      ].join('\n');
      console.log(`\n${markdown}\n`);
      writeReadmeSection('node-bus', markdown, { heading: 'Several nodes: requests to the node holding a call' });
    } finally {
      await raw.close();
      await asker.close();
      await holder.close();
    }
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
});
