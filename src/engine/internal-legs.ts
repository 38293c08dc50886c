import { CallLeg } from '../legs/call-leg.js';
import type { CallMedia, MediaBackend } from '../media/call-media.js';
import type { IncomingCall } from '../sip/ua/incoming-call.js';
import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { NodeRecord } from '../store/repos/node-repo.js';
import type { Store } from '../store/store.js';
import { loadInternalLegKey, signInternalLeg, verifyInternalLeg, type InternalLegCheck, type InternalLegFields } from './internal-leg-auth.js';

/** The header naming the room on an internal INVITE: its presence alone makes an INVITE internal (SPEC §16). */
export const internalRoomHeader = 'X-Sautikit-Room';

export interface InternalLegsOptions {
  store: Store;
  ua: SipUserAgent;
  media: MediaBackend;
  clock: Clock;
}

/**
 * The SIP/RTP legs between nodes that carry a conference participant from
 * the node running its call to the room's home node (SPEC §16), signed with
 * the key the nodes share (`internal-leg-auth.ts`).
 */
export class InternalLegs {
  readonly #o: InternalLegsOptions;
  #key: Promise<Buffer> | undefined;

  constructor(options: InternalLegsOptions) {
    this.#o = options;
  }

  /**
   * The internal leg to room `fields.room` on `node`: an INVITE to the home
   * node's SIP address, G.711 as any leg, with the signed X-Sautikit-*
   * headers. It is not a call: no record, no billing.
   */
  async dial(node: NodeRecord, fields: InternalLegFields, near: CallMedia, log: Logger): Promise<CallLeg> {
    const headers = signInternalLeg(await this.#sharedKey(), fields, this.#o.clock.now());
    const ours = this.#o.ua.localAddress('udp');
    return CallLeg.dial(this.#o.ua, this.#o.media, {
      uri: `sip:conference@${node.sipAddress}`,
      from: `sip:${encodeURIComponent(fields.callId)}@${ours.host}:${ours.port}`,
      headers: Object.entries(headers),
      label: `node ${node.id}`,
      srtp: 'off',
    }, log, near);
  }

  /** Checks an internal INVITE's signature (any node of the platform holds the key; nothing else does). */
  async verify(incoming: IncomingCall): Promise<InternalLegCheck> {
    return verifyInternalLeg(await this.#sharedKey(), (name) => incoming.request.headers.get(name), this.#o.clock.now());
  }

  #sharedKey(): Promise<Buffer> {
    this.#key ??= loadInternalLegKey(this.#o.store.systemState).catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }
}
