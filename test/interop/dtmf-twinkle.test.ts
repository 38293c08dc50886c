/**
 * SPEC §13 "INFO DTMF feeds getDigits", with twinkle as the agent's phone:
 * twinkle (DTMF transport `info`) registers as an agent and dials a number of
 * its workspace, whose app (the number's routing_url, SPEC §13 direct
 * routing) asks for digits; the keys typed on twinkle travel as SIP INFO
 * `application/dtmf-relay` and reach the app as `Digits`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/http-receiver.js';
import { startTestApi, type TestApi } from '../helpers/test-api.js';
import { until } from '../helpers/until.js';
import { TwinkleAgent } from './twinkle-agent.js';

describe('twinkle sends INFO DTMF into a getDigits', () => {
  let api: TestApi;
  let app: HttpReceiver;
  let twinkle: TwinkleAgent;
  let number = '';

  beforeAll(async () => {
    api = await startTestApi('sqlite');
    app = await HttpReceiver.start();
    app.respond = (req) => req.url === '/menu'
      ? { status: 200, body: JSON.stringify([{ getDigits: { numDigits: 3, timeout: 15, action: `${app.url}/digits`, nested: [{ say: { text: 'Enter your account code.' } }] } }]) }
      : { status: 200, body: JSON.stringify([{ say: { text: 'Thank you.' } }, { hangup: {} }]) };
    number = (await api.call('POST', '/v1/numbers', { body: { prefix: '+25470', routing_url: `${app.url}/menu` } })).json().number;
    const credential = (await api.call('POST', '/v1/sip/credentials', { body: { username: 'tw', password: 'tw-pass-1' } })).json();
    twinkle = await TwinkleAgent.start({ user: 'tw', domain: credential.domain, password: 'tw-pass-1', proxy: api.platform.sipAddress });
    await twinkle.waitFor(/registration succeeded/);
  }, 60_000);
  afterAll(async () => {
    await twinkle?.close();
    await app?.close();
    await api?.close();
  });

  it('the digits typed on twinkle reach the app as Digits, sent as SIP INFO', async () => {
    const since = twinkle.output.length;
    twinkle.command(`call ${number}`);
    await until(async () => app.requests.some((r) => r.url === '/menu'), 15_000);
    await twinkle.waitFor(/answered|established|connected/i, since);
    twinkle.command('dtmf 507');
    const digits = await until(async () => app.requests.find((r) => r.url === '/digits'), 20_000)
      .catch((error: unknown) => { throw new Error(`no digits: ${String(error)}\n${twinkle.output.slice(-1500)}\n${twinkle.sipLog().slice(-4000)}`); });
    expect(digits.json).toMatchObject({ Digits: '507', To: number, From: `sip:tw@${(await api.call('GET', '/v1/sip/credentials')).json()[0].domain}` });
    // The keys went as SIP INFO (twinkle's dtmf_transport=info), not RTP events.
    const infos = twinkle.sipLog().match(/^INFO sip:[^\n]*\n(?:[^\n]+\n)*?Content-Type: application\/dtmf-relay/gm) ?? [];
    expect(infos).toHaveLength(3);
    const menu = app.requests.find((r) => r.url === '/menu')!.json;
    expect(menu).toMatchObject({ Direction: 'inbound', To: number });
  }, 60_000);
});
