import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { Route } from './destination-router.js';

/** The header carrying the hop's token on the INVITEs the platform sends itself. */
export const ownNumberHopHeader = 'X-Sautikit-Own-Number';

/**
 * A leg to one of the workspace's own numbers that must arrive as an inbound
 * call to it (SPEC §13 direct routing: "a number the workspace owns → that
 * number's routing_url as an inbound call"), e.g. a blind transfer's
 * Refer-To. Rather than leave through a carrier and come back, the INVITE
 * goes to the platform's own SIP address, marked with a token only this
 * process knows; the engine takes such an INVITE like a carrier's call to
 * the number. Both checks are needed: the token (a random 128-bit value per
 * run) so nobody else can dial numbers in as if from a carrier, the source
 * (our own UDP socket) so a token that leaked in a log is still no use from
 * elsewhere.
 */
export class OwnNumberHop {
  readonly #token = randomBytes(16).toString('hex');

  /** `self`: where the platform's SIP listens for itself (the bound address, 127.0.0.1 when bound to a wildcard). */
  constructor(private readonly self: () => { host: string; port: number }) {}

  /** The route of a leg to `number` (E.164, a number of the workspace). */
  route(number: string): Route {
    const { host, port } = this.self();
    return { uri: `sip:${number}@${host.includes(':') ? `[${host}]` : host}:${port}`, via: 'own-number', headers: [[ownNumberHopHeader, this.#token]] };
  }

  /** Whether an INVITE is one this process sent itself by `route`. */
  isOurs(incoming: IncomingCall): boolean {
    const token = incoming.request.headers.get(ownNumberHopHeader);
    if (token === undefined || token.length !== this.#token.length) return false;
    const { host, port } = this.self();
    const from = incoming.remote.address.replace(/^::ffff:/, '');
    return incoming.protocol === 'udp' && from === host && incoming.remote.port === port
      && timingSafeEqual(Buffer.from(token), Buffer.from(this.#token));
  }
}
