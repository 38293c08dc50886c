import net from 'node:net';

/** NATS used by the tests; the node-svc machines and CI run one (with JetStream) at this address. */
export const testNatsUrl = process.env['SAUTIKIT_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/**
 * Whether NATS answers (its INFO line). In CI it must: there an unreachable
 * server is a failure, not a skip.
 */
export async function natsAvailable(): Promise<boolean> {
  const url = new URL(testNatsUrl);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 4222) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('INFO')));
    socket.once('error', () => done(false));
  });
  if (!reachable) {
    if (process.env['CI']) throw new Error(`NATS at ${testNatsUrl} is required in CI`);
    console.warn(`NATS not reachable at ${testNatsUrl}; the several-nodes tests are skipped`);
  }
  return reachable;
}
