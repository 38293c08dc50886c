/**
 * An incoming REFER inside a dialog (RFC 3515): the peer asks us to
 * connect the call elsewhere (a blind transfer). The owner decides:
 * `reject()` with a final status, or `accept()` — 202 Accepted and the first
 * NOTIFY (`SIP/2.0 100 Trying`) of the implicit subscription — then
 * `finish()` with the final status the transfer reached, which is sent as
 * the last NOTIFY (`Subscription-State: terminated`).
 *
 * ```
 *  pending --accept()--> accepted --finish()--> finished
 *     \-----reject()----------------------------> finished
 * ```
 */
import { parseNameAddr } from '../message/name-addr.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Uri } from '../message/uri.js';
import { createResponse } from './message-factory.js';

type ReferState = 'pending' | 'accepted' | 'finished';

/** Sends a NOTIFY in the REFER's dialog; resolves with its final response. */
export type NotifySender = (options: { body: string; contentType: string; headers: Array<readonly [string, string]> }) => Promise<SipResponse>;

/** The Refer-To target, or a reason to refuse the REFER with 400 (RFC 3515 §2.4.1: exactly one Refer-To). */
export function parseReferTo(request: SipRequest): { uri: Uri } | { problem: string } {
  const values = request.headers.getAll('Refer-To');
  if (values.length !== 1) return { problem: values.length === 0 ? 'no Refer-To' : 'more than one Refer-To' };
  try {
    return { uri: parseNameAddr(values[0]!, 'Refer-To').uri };
  } catch {
    return { problem: 'malformed Refer-To' };
  }
}

export class ReferRequest {
  readonly request: SipRequest;
  /** Where the peer asks the call to go. */
  readonly referTo: Uri;
  readonly #respond: (response: SipResponse) => void;
  readonly #notify: NotifySender;
  #state: ReferState = 'pending';

  constructor(request: SipRequest, referTo: Uri, respond: (response: SipResponse) => void, notify: NotifySender) {
    this.request = request;
    this.referTo = referTo;
    this.#respond = respond;
    this.#notify = notify;
  }

  get state(): ReferState {
    return this.#state;
  }

  /** Refuses the REFER with a final status (e.g. 403, 488, 603); no subscription is created. */
  reject(status: number, reason?: string): void {
    if (this.#state !== 'pending') return;
    this.#state = 'finished';
    this.#respond(createResponse(this.request, status, { reason }));
  }

  /** RFC 3515 §2.4.2: 202 Accepted, then §2.4.4: an immediate NOTIFY with `SIP/2.0 100 Trying`. */
  accept(): void {
    if (this.#state !== 'pending') return;
    this.#state = 'accepted';
    this.#respond(createResponse(this.request, 202));
    void this.#send(100, 'Trying', false);
  }

  /**
   * The last NOTIFY: the final status of the transfer (`200 OK`, or the
   * failure, e.g. `486 Busy Here`, `403 Forbidden`), ending the implicit
   * subscription (RFC 3515 §2.4.7: terminated once a final response is reported).
   */
  finish(status: number, reason: string): Promise<void> {
    if (this.#state !== 'accepted') return Promise.resolve();
    this.#state = 'finished';
    return this.#send(status, reason, true);
  }

  async #send(status: number, reason: string, final: boolean): Promise<void> {
    try {
      await this.#notify({
        // RFC 3420 message/sipfrag: a status line alone is a valid fragment.
        body: `SIP/2.0 ${status} ${reason}\r\n`,
        contentType: 'message/sipfrag;version=2.0',
        headers: [
          // RFC 3515 §2.4.4: Event: refer; RFC 6665 §8.2.3: Subscription-State on every NOTIFY.
          ['Event', 'refer'],
          ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
        ],
      });
    } catch {
      // The dialog ended meanwhile: nobody is left to tell.
    }
  }
}
