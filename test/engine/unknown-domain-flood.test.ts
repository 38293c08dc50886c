/**
 * SPEC §13: REGISTERs to workspace domains that do not exist allocate
 * nothing lasting. 20,000 of them, each to a new made-up domain, are answered
 * 404 and leave the heap (after GC) where it was. Before the fix every such
 * domain kept a Registrar and its digest state forever (~133 MB per 60,000).
 * Measured in this process: the user agent and registrar are the real ones,
 * on a real UDP socket, over a real store.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WorkspaceRegistrar } from '../../src/engine/workspace-registrar.js';
import { SipUserAgent } from '../../src/sip/index.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../helpers/dialects.js';
import { until } from '../helpers/until.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let store: Store;
let cleanup: () => Promise<void>;
let server: SipUserAgent;
let registrar: WorkspaceRegistrar;
// Timer J (64*T1) ends each REGISTER's server transaction: 640 ms here instead of 32 s.
const timers = { t1: 10, t2: 40, t4: 50 };

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore('sqlite'));
  registrar = new WorkspaceRegistrar(store, 'sip.test');
  server = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], registrar, timers });
  await server.start();
});
afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

/** Sends `count` REGISTERs, each to a new random workspace domain, at most `window` unanswered at a time; answers the statuses seen. */
async function flood(count: number, window = 200): Promise<Map<number, number>> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = server.localAddress('udp').port;
  const statuses = new Map<number, number>();
  let answered = 0;
  socket.on('message', (data) => {
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1]);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    answered++;
  });
  try {
    for (let sent = 0; sent < count;) {
      while (sent < count && sent - answered < window) {
        const domain = `ws-${randomBytes(8).toString('hex')}.sip.test`;
        const id = `${sent}-${randomBytes(6).toString('hex')}`;
        socket.send([
          `REGISTER sip:${domain} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bK${id};rport`, 'Max-Forwards: 70',
          `To: <sip:agent@${domain}>`, `From: <sip:agent@${domain}>;tag=${id}`, `Call-ID: ${id}`, 'CSeq: 1 REGISTER',
          `Contact: <sip:agent@127.0.0.1:${socket.address().port}>`, 'Expires: 3600', 'Content-Length: 0', '', '',
        ].join('\r\n'), port, '127.0.0.1');
        sent++;
      }
      await until(async () => sent - answered < window || answered >= count, 30_000, 1);
    }
    // Datagrams lost on a loaded machine are not answered; nearly all must be.
    await until(async () => answered >= count * 0.99, 30_000, 20);
  } finally {
    socket.close();
  }
  return statuses;
}

it('answers 20,000 REGISTERs to made-up workspace domains with 404 and keeps nothing of them', async () => {
  await flood(2000); // warm up: code paths compiled, pools and caches at their working size
  await new Promise((r) => setTimeout(r, 1500)); // the warm-up's transactions end (Timer J)
  const before = heapAfterGc();

  const statuses = await flood(20_000);
  expect([...statuses.keys()]).toEqual([404]);
  await new Promise((r) => setTimeout(r, 1500));
  const after = heapAfterGc();

  const grownMb = (after - before) / 1024 / 1024;
  console.log(`heapUsed after GC: ${(before / 1048576).toFixed(1)} MB before, ${(after / 1048576).toFixed(1)} MB after 20,000 REGISTERs (${grownMb.toFixed(2)} MB)`);
  expect(grownMb).toBeLessThan(5);
  expect(registrar.aors()).toEqual([]);
}, 180_000);
