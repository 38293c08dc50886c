import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySautikitSignature } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { EventPublisher } from '../../src/webhooks/event-publisher.js';
import { startCli } from '../helpers/cli-process.js';
import { HttpReceiver } from '../helpers/http-receiver.js';

describe('webhook delivery across a crash', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'sautikit-crash-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('a server killed with SIGKILL between attempts delivers the event after restart, with the same event id', async () => {
    const receiver = await HttpReceiver.start();
    receiver.respond = (_req, i) => ({ status: i === 0 ? 500 : 200 });
    const args = ['--data', data, '--webhook-retry-schedule', '0,2,2,2,2,2,2,2'];
    const first = await startCli(args);
    const credentials = JSON.parse(readFileSync(path.join(data, 'credentials.json'), 'utf8'));
    // Write an event the way the engine does: into the outbox, in a transaction (SQLite in WAL mode takes a second writer).
    const store = await Store.open({ url: path.join(data, 'sautikit.db') });
    const envelope = await store.transaction((repos) => new EventPublisher(0).publish(repos, {
      workspaceId: credentials.workspace_id, type: 'call.hangup', data: { call_id: 'call_crash', duration_seconds: 42 },
      statusUrl: `${receiver.url}/status`, now: new Date(),
    }));
    const row = () => store.db.selectFrom('outbox').selectAll().where('payload', 'like', `%${envelope!.id}%`).executeTakeFirstOrThrow();
    try {
      await receiver.waitFor((r) => r.length >= 1, 10_000);
      // Between attempts: the first one is answered and recorded, the second not yet due.
      for (let i = 0; i < 100 && Number((await row()).attempts) < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await row()).toMatchObject({ status: 'pending', attempts: 1 });
      first.child.kill('SIGKILL');
      await first.stop();
      expect(receiver.requests).toHaveLength(1);
      const second = await startCli(args);
      try {
        await receiver.waitFor((r) => r.length >= 2, 25_000);
      } finally {
        await second.stop();
      }
      const [a1, a2] = receiver.requests;
      expect(a1!.headers['sautikit-event-id']).toBe(envelope!.id);
      expect(a2!.headers['sautikit-event-id']).toBe(envelope!.id);
      expect(a2!.headers['sautikit-delivery-attempt']).toBe('2');
      expect(a2!.json).toMatchObject({ type: 'call.hangup', data: { call_id: 'call_crash', duration_seconds: 42 } });
      expect(verifySautikitSignature(a2!.rawBody, a2!.headers['sautikit-signature'], credentials.signing_secret).ok).toBe(true);
      expect(await row()).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await store.close();
      await receiver.close();
    }
  }, 60_000);
});
