/**
 * The store's share of an inbound call, without SIP, RTP or the webhook:
 * the writes and reads the engine makes for every call of the full-path
 * bench, in its order and with its classes (`CallRecords`, `CallBilling`,
 * `Wallet`), on SQLite in a temporary folder opened as the platform opens it.
 * Per call: the number's claim, the workspace, the first minute reserved,
 * the CDR inserted with `initiated` and `ringing`, `in-progress`, then
 * billing at hang-up. A 1.3 s call gets no spend check: since 2026-12-03 the
 * first comes 30 s after the answer (until then, one came a second after it).
 * STORE_PATH_LIVE calls (default 300, about what 200 cps of 1.3 s calls hold
 * up) are between answer and hang-up at any time, so reservation sums see as
 * many rows as in the full-path bench.
 *
 * CPU time (process.cpuUsage, user + system) per call over STORE_PATH_CALLS
 * calls (default 3000) after 1000 to warm up; medians of STORE_PATH_RUNS
 * runs (default 3), each on a fresh store. Being in one process and a few
 * seconds long, it is far less exposed to a busy box than the full-path
 * bench, so it is how store changes are compared (before / after,
 * interleaved). Writes its table into bench/README.md ("Store share of a call").
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/store-call-path.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bench, describe } from 'vitest';
import { Wallet } from '../src/billing/wallet.js';
import { CallBilling } from '../src/engine/call-billing.js';
import { CallRecords } from '../src/engine/call-records.js';
import type { CallRecord } from '../src/store/repos/call-repo.js';
import { provisionWorkspace } from '../src/store/provision-workspace.js';
import { Store } from '../src/store/store.js';
import { EventPublisher } from '../src/webhooks/event-publisher.js';
import { markdownTable, median, writeReadmeSection } from './lib/readme-section.js';

const runs = Number(process.env['STORE_PATH_RUNS'] ?? 3);
const calls = Number(process.env['STORE_PATH_CALLS'] ?? 3000);
const warmup = 1000;
const live = Number(process.env['STORE_PATH_LIVE'] ?? 300);
const clock = { now: () => new Date() };

interface RunResult {
  cpuUsPerCall: number;
  wallUsPerCall: number;
}

async function oneRun(): Promise<RunResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sautikit-store-path-'));
  const store = await Store.open({ url: path.join(dir, 'sautikit.db') });
  try {
    const now = clock.now();
    const { workspace } = await provisionWorkspace(store, { name: 'store-path', allowPrivateCallbacks: false, now });
    await new Wallet(store).credit({ workspaceId: workspace.id, amountCents: 1_500_000, reference: 'bench', now });
    await store.numbers.addToInventory([{ number: '+254711555000', kind: 'mobile' }], now);
    await store.numbers.claim({ workspaceId: workspace.id, number: '+254711555000', urls: { routingUrl: 'http://127.0.0.1:9/app', statusUrl: null, fallbackUrl: null }, now });
    const events = new EventPublisher(0);
    const records = new CallRecords(store, events, clock);
    const billing = new CallBilling(store, records, clock, events);
    const answered: Array<{ call: CallRecord; answeredAt: Date }> = [];

    const hangUp = async (): Promise<void> => {
      const { call, answeredAt } = answered.shift()!;
      await billing.close(call, { status: 'completed', by: 'system', cause: 'normal_clearing', answeredAt, endedAt: clock.now(), detail: {} });
    };
    const oneCall = async (): Promise<void> => {
      const claim = (await store.numbers.findClaimByNumber('+254711555000'))!;
      await store.workspaces.get(claim.workspaceId);
      const draft = records.draft({ workspaceId: claim.workspaceId, direction: 'inbound', from: '+254700000001', to: claim.number, numberId: claim.id, statusUrl: claim.statusUrl, metadata: {} });
      await store.transaction((repos) => new Wallet(repos).reserveFirstMinute({ workspaceId: claim.workspaceId, callId: draft.record.id, destination: claim.number, inbound: true, now: clock.now() }));
      await records.inTransaction(async (repos) => {
        await repos.calls.insert(draft);
        await records.transitionIn(repos, draft.record.id, 'initiated');
        return records.transitionIn(repos, draft.record.id, 'ringing', { ringing_at: clock.now().toISOString() });
      });
      const answeredAt = clock.now();
      const call = await records.transition(draft.record.id, 'in-progress', { answered_at: answeredAt.toISOString() });
      // No spend check: the call was admitted holding its first minute, and the guard's first check comes 30 s after the answer (src/engine/spend-guard.ts).
      answered.push({ call, answeredAt });
      if (answered.length > live) await hangUp();
    };

    for (let i = 0; i < warmup; i++) await oneCall();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await oneCall();
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    while (answered.length > 0) await hangUp();
    return { cpuUsPerCall: (cpu.user + cpu.system) / calls, wallUsPerCall: (wall * 1000) / calls };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('store share of a call', () => {
  bench('inbound call: claim, reserve, CDR states, billing (SQLite)', async () => {
    const results: RunResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await oneRun());
    const load = os.loadavg()[0]!.toFixed(2);
    const line = `store share of a call: ${results.map((r) => r.cpuUsPerCall.toFixed(0)).join(' / ')} µs CPU per call (median ${median(results.map((r) => r.cpuUsPerCall)).toFixed(0)}), load ${load}`;
    console.log(line);
    if (process.env['STORE_PATH_README'] === '0') return;
    writeReadmeSection('store-call-path', [
      `${calls} calls per run after ${warmup} to warm up, ${live} calls answered and not yet hung up at any time, SQLite (WAL) in a temporary folder; ${runs} runs, each on a fresh store:`,
      '',
      markdownTable(['run', 'CPU per call, µs', 'wall time per call, µs'], [
        ...results.map((r, i) => [i + 1, r.cpuUsPerCall.toFixed(0), r.wallUsPerCall.toFixed(0)]),
        [`median of ${runs}`, median(results.map((r) => r.cpuUsPerCall)).toFixed(0), median(results.map((r) => r.wallUsPerCall)).toFixed(0)],
      ]),
    ].join('\n'), { heading: 'Store share of a call' });
  }, { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
});
