import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeBus, NodeUnreachable, nodeSubject } from '../../src/cluster/node-bus.js';
import type { NodeRequest } from '../../src/cluster/node-messages.js';
import { AppError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/log.js';
import { freePort } from '../helpers/cli-process.js';
import { natsAvailable, testNatsUrl } from '../helpers/nats.js';
import { until } from '../helpers/until.js';

const reachable = await natsAvailable();
// Node ids of their own, so suites running at once on the same NATS never answer each other.
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe.skipIf(!reachable)('NodeBus over a real NATS server', () => {
  let a: NodeBus;
  let b: NodeBus;
  const seenByA: NodeRequest[] = [];

  beforeAll(async () => {
    a = await NodeBus.connect({ url: testNatsUrl, nodeId: `a-${tag}`, logger: silentLogger, timeoutMs: 1000, stallMs: 100 });
    b = await NodeBus.connect({ url: testNatsUrl, nodeId: `b-${tag}`, logger: silentLogger, timeoutMs: 1000, stallMs: 100 });
    await a.serve(async (request) => {
      seenByA.push(request);
      if (request.kind === 'sandbox.call' && request.id === 'sbx_on_a') return { id: 'sbx_on_a', status: 'answered' };
      if (request.kind === 'call.control' && request.callId === 'call_gone') throw new AppError('call_not_active', 'call call_gone is completed', 'id');
      if (request.kind === 'call.control' && request.callId === 'call_crash') throw new Error('database on fire');
      if (request.kind === 'call.control') return { id: request.callId, status: 'in-progress' };
      throw new AppError('not_found', 'nothing here');
    });
    await b.serve(async () => {
      throw new AppError('not_found', 'nothing on b');
    });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('carries a request to its node and the result back', async () => {
    const body = { actions: [{ say: { text: 'hello' } }] };
    expect(await b.request(`a-${tag}`, { kind: 'call.control', workspaceId: 'ws', callId: 'call_1', body })).toEqual({ id: 'call_1', status: 'in-progress' });
    expect(seenByA.at(-1)).toEqual({ kind: 'call.control', workspaceId: 'ws', callId: 'call_1', body });
  });

  it('throws the AppError the node answered, code, message and field intact', async () => {
    const error = await b.request(`a-${tag}`, { kind: 'call.control', workspaceId: 'ws', callId: 'call_gone', body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'call_not_active', status: 409, message: 'call call_gone is completed', field: 'id' });
  });

  it('answers an unexpected failure on the node as internal_error, its detail kept there', async () => {
    const error = await b.request(`a-${tag}`, { kind: 'call.control', workspaceId: 'ws', callId: 'call_crash', body: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'internal_error' });
    expect((error as Error).message).not.toContain('fire');
  });

  it('a node nobody runs is NodeUnreachable(no_responders), without waiting for the timeout to run out', async () => {
    const error = await b.request(`gone-${tag}`, { kind: 'sandbox.call', workspaceId: 'ws', id: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnreachable);
    expect(error).toMatchObject({ reason: 'no_responders', nodeId: `gone-${tag}` });
  });

  it('asks every node and answers the one that has it; not_found when none has', async () => {
    expect(await b.requestAny({ kind: 'sandbox.call', workspaceId: 'ws', id: 'sbx_on_a' }, new AppError('not_found', 'no'))).toEqual({ id: 'sbx_on_a', status: 'answered' });
    const error = await b.requestAny({ kind: 'sandbox.call', workspaceId: 'ws', id: 'sbx_nowhere' }, new AppError('not_found', 'no sandbox call sbx_nowhere')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not_found', message: 'no sandbox call sbx_nowhere' });
  });

  it('answers malformed messages with a clear error and keeps serving', async () => {
    const raw = await connect({ servers: testNatsUrl });
    try {
      for (const payload of ['not json', '[]', '{"kind":"nope"}', '{"kind":"call.control","workspaceId":"ws"}']) {
        const reply = JSON.parse((await raw.request(nodeSubject(`a-${tag}`), payload, { timeout: 1000 })).string()) as { ok: boolean; error: { code: string; message: string } };
        expect(reply.ok).toBe(false);
        expect(reply.error.code).toBe('validation_failed');
        expect(reply.error.message).toMatch(/^malformed request from another node: /);
      }
    } finally {
      await raw.close();
    }
    expect(await b.request(`a-${tag}`, { kind: 'call.control', workspaceId: 'ws', callId: 'call_2', body: {} })).toMatchObject({ id: 'call_2' });
  });

  it('refuses to start when NATS cannot be reached, naming --nats-url', async () => {
    await expect(NodeBus.connect({ url: 'nats://127.0.0.1:1', nodeId: `c-${tag}`, logger: silentLogger })).rejects.toThrow(/^--nats-url nats:\/\/127\.0\.0\.1:1 is not reachable: /);
  });

  it('closes idempotently; a closed bus reports its requests as unreachable', async () => {
    const c = await NodeBus.connect({ url: testNatsUrl, nodeId: `c-${tag}`, logger: silentLogger });
    await Promise.all([c.close(), c.close()]);
    await c.close();
    await expect(c.request(`a-${tag}`, { kind: 'sandbox.call', workspaceId: 'ws', id: 'x' })).rejects.toBeInstanceOf(NodeUnreachable);
  });
});

const natsServer = '/usr/sbin/nats-server';

/** A private nats-server on a port of its own, stopped and started again under the bus. */
describe.skipIf(!existsSync(natsServer))('NodeBus when its NATS server restarts', () => {
  let server: ChildProcess | undefined;
  const start = async (port: number) => {
    server = spawn(natsServer, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    await until(async () => {
      const probe = await connect({ servers: `nats://127.0.0.1:${port}`, timeout: 500 }).catch(() => undefined);
      await probe?.close();
      return probe !== undefined;
    }, 10_000);
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise((resolve) => {
      running.once('exit', resolve);
      running.kill('SIGTERM');
    });
  };
  afterAll(stop);

  it('reconnects on its own: requests work again once the server is back', async () => {
    const port = await freePort();
    await start(port);
    const url = `nats://127.0.0.1:${port}`;
    const a = await NodeBus.connect({ url, nodeId: `ra-${tag}`, logger: silentLogger, timeoutMs: 500 });
    const b = await NodeBus.connect({ url, nodeId: `rb-${tag}`, logger: silentLogger, timeoutMs: 500 });
    try {
      await a.serve(async () => ({ answered: 'by a' }));
      const ask = () => b.request(`ra-${tag}`, { kind: 'sandbox.call', workspaceId: 'ws', id: 'x' });
      expect(await ask()).toEqual({ answered: 'by a' });
      await stop();
      await expect(ask()).rejects.toBeInstanceOf(NodeUnreachable);
      await start(port);
      expect(await until(() => ask().catch(() => undefined), 15_000)).toEqual({ answered: 'by a' });
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
