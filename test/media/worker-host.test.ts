import { afterAll, describe, expect, it } from 'vitest';
import { WorkerHost } from '../../src/media/worker-host.js';

// A real worker program: echoes, crashes on request, or works slowly.
const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', (msg) => {
  if (msg.op === 'crash') throw new Error('worker blew up');
  if (msg.op === 'fail') return parentPort.postMessage({ id: msg.id, ok: false, error: 'bad input' });
  const reply = () => parentPort.postMessage({ id: msg.id, ok: true, result: workerData.prefix + msg.text });
  if (msg.op === 'slow') setTimeout(reply, 300); else reply();
});
`;

type Req = { op: 'echo' | 'crash' | 'fail' | 'slow'; text?: string };

describe('workerHost', () => {
  const host = new WorkerHost<Req, string>('test', CODE, { prefix: '> ' });
  afterAll(() => host.close());

  it('runs requests on the worker and returns results', async () => {
    await expect(host.request({ op: 'echo', text: 'hi' })).resolves.toBe('> hi');
    await expect(host.request({ op: 'fail' })).rejects.toThrow('bad input');
  });

  it('rejects what is in flight when the worker crashes and restarts on the next request', async () => {
    const slow = host.request({ op: 'slow', text: 'x' });
    await expect(host.request({ op: 'crash' })).rejects.toThrow(/blew up/);
    await expect(slow).rejects.toThrow();
    await expect(host.request({ op: 'echo', text: 'again' })).resolves.toBe('> again');
  });

  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const p = host.request({ op: 'slow', text: 'x' }, ac.signal);
    ac.abort(new Error('caller gave up'));
    await expect(p).rejects.toThrow('caller gave up');
  });

  it('rejects everything after close', async () => {
    const other = new WorkerHost<Req, string>('other', CODE, { prefix: '' });
    const slow = expect(other.request({ op: 'slow', text: 'x' })).rejects.toThrow(/closed/);
    await other.close();
    await other.close();
    await slow;
    await expect(other.request({ op: 'echo', text: 'x' })).rejects.toThrow(/closed/);
  });
});
