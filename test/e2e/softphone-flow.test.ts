import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg } from '../../src/legs/call-leg.js';
import { MediaEngine } from '../../src/media/engine.js';
import { silentLogger } from '../../src/shared/log.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';


/** An agent's softphone: registers with digest credentials, then is reached by a call to its sip: address. */
describe('softphones: SIP credentials, registration and calls to sip:user@<workspace domain>', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let phone: SipUserAgent;
  let media: MediaEngine;

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = () => ({ status: 200, body: JSON.stringify([{ say: { text: 'A customer is waiting.' } }, { hangup: {} }]) });
    phone = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await phone.start();
    media = new MediaEngine({ portMin: 47000, portMax: 47999, logger: silentLogger });
  }, 60_000);
  afterAll(async () => {
    await phone?.close();
    await media?.close();
    await app?.close();
    await api?.close();
  });

  it('a registered softphone is dialled by POST /v1/calls to its sip: AOR; wrong passwords and other domains are refused', async () => {
    const created = await api.call('POST', '/v1/sip/credentials', { body: { username: 'alice', password: 's3cret-pass' } });
    expect(created.statusCode).toBe(201);
    const credential = created.json();
    expect(credential).toMatchObject({ username: 'alice', aor: `sip:alice@${credential.domain}`, registered: false });
    expect(credential.domain).toMatch(/\.sip\.sautikit\.local$/);
    expect((await api.call('POST', '/v1/sip/credentials', { body: { username: 'alice', password: 'another-pass' } })).json().error.code).toBe('already_exists');

    const registrar = credential.registrar as string;
    await expect(phone.register({ registrar, aor: credential.aor, auth: { username: 'alice', password: 'wrong-pass' } })).rejects.toThrow();
    await expect(phone.register({ registrar, aor: 'sip:alice@elsewhere.example.com', auth: { username: 'alice', password: 's3cret-pass' } })).rejects.toThrow();
    const ok = await phone.register({ registrar, aor: credential.aor, auth: { username: 'alice', password: 's3cret-pass' }, expires: 300 });
    expect(ok.expires).toBeGreaterThan(0);
    expect((await api.call('GET', '/v1/sip/credentials')).json()[0]).toMatchObject({ username: 'alice', registered: true });

    // The softphone auto-answers.
    const rang = new Promise<string>((resolve) => phone.once('invite', (incoming) => void (async () => {
      const leg = await CallLeg.fromIncoming(incoming, media, silentLogger);
      if ('problem' in leg) return;
      leg.answer();
      resolve(incoming.request.to.uri.scheme);
    })()));
    const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
    const placed = await api.call('POST', '/v1/calls', { body: { to: credential.aor, from: number.number, action_url: `${app.url}/agent` } });
    expect(placed.statusCode).toBe(201);
    await rang;
    const call = await until(async () => {
      const c = (await api.call('GET', `/v1/calls/${placed.json().id}`)).json();
      return c.status === 'completed' && c.price !== null ? c : undefined;
    });
    expect(call).toMatchObject({ to: credential.aor, rate_per_minute: '0.20' });

    // Another workspace cannot reach this softphone.
    const other = (await api.call('POST', '/v1/admin/workspaces', { key: api.credentials.admin_key, body: { name: 'other' } })).json();
    await api.call('POST', `/v1/admin/workspaces/${other.id}/credits`, { key: api.credentials.admin_key, body: { amount: '100.00' } });
    const otherNumber = (await api.call('POST', '/v1/numbers', { key: other.api_key, body: { prefix: '+25470' } })).json();
    const refused = await api.call('POST', '/v1/calls', { key: other.api_key, body: { to: credential.aor, from: otherNumber.number, action_url: `${app.url}/agent` } });
    expect(refused.json().error).toMatchObject({ code: 'destination_not_allowed', field: 'to' });
  }, 60_000);
  it('POST /v1/calls to a user with two registered devices rings both: one call record, the first to answer wins, the other gets CANCEL', async () => {
    const credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'carol', password: 'carol-pass-1' } })).json();
    const devices = [0, 1].map(() => new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' }));
    try {
      for (const device of devices) {
        await device.start();
        await device.register({ registrar: credential.registrar, aor: credential.aor, auth: { username: 'carol', password: 'carol-pass-1' }, expires: 300 });
      }
      const [desk, mobile] = devices as [SipUserAgent, SipUserAgent];
      const cancels: Array<string | undefined> = [];
      let deskRang = false;
      desk.on('invite', (incoming) => {
        deskRang = true;
        incoming.ring();
        incoming.on('cancelled', (reason) => cancels.push(reason));
      });
      mobile.on('invite', (incoming) => void (async () => {
        await until(async () => deskRang, 10_000, 20);
        const leg = await CallLeg.fromIncoming(incoming, media, silentLogger);
        if (!('problem' in leg)) leg.answer();
      })());
      const number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470' } })).json();
      const placed = await api.call('POST', '/v1/calls', { body: { to: credential.aor, from: number.number, action_url: `${app.url}/agent` } });
      expect(placed.statusCode).toBe(201);
      const call = await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${placed.json().id}`)).json();
        return c.status === 'completed' && c.price !== null ? c : undefined;
      });
      expect(call).toMatchObject({ to: credential.aor, status: 'completed' });
      expect(cancels).toEqual(['SIP;cause=200;text="Call completed elsewhere"']);
      expect((await api.call('GET', `/v1/calls?to=${encodeURIComponent(credential.aor)}`)).json()).toHaveLength(1);

      // Every device busy: the call is busy.
      desk.removeAllListeners('invite');
      mobile.removeAllListeners('invite');
      for (const device of devices) device.on('invite', (incoming) => incoming.reject(486));
      const busy = await api.call('POST', '/v1/calls', { body: { to: credential.aor, from: number.number, action_url: `${app.url}/agent` } });
      expect(await until(async () => {
        const c = (await api.call('GET', `/v1/calls/${busy.json().id}`)).json();
        return c.status === 'busy' ? c : undefined;
      })).toMatchObject({ hangup_cause: 'busy' });
    } finally {
      for (const device of devices) await device.close();
    }
  }, 60_000);
});
