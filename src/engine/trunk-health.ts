import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Trunk } from '../store/repos/trunk-repo.js';
import { trunkUri } from './trunk-uri.js';

/** What `GET /v1/admin/trunks/{id}` shows of a trunk's OPTIONS health (SPEC §13). */
export interface HealthView {
  /** `unknown` until the first ping is answered or missed, and always with `options_ping: 0`. */
  status: 'up' | 'down' | 'unknown';
  last_reply_at: string | null;
}

/**
 * OPTIONS pings to one trunk every `options_ping` seconds (RFC 3261 §11).
 * Any answer, even 404 or 405, means the carrier is there (`up`); no answer
 * within the trunk's `answer_timeout` (the UDP transaction retransmits in
 * that window, so one lost packet is not enough) or a transport error means
 * `down`. The router skips `down` trunks while another trunk matches.
 */
export class TrunkHealth {
  #status: HealthView['status'] = 'unknown';
  #lastReplyAt: Date | null = null;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly trunk: Trunk,
    private readonly ua: SipUserAgent,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get view(): HealthView {
    return { status: this.#status, last_reply_at: this.#lastReplyAt?.toISOString() ?? null };
  }

  get down(): boolean {
    return this.#status === 'down';
  }

  start(): void {
    void this.#ping();
  }

  /** Idempotent; a ping under way is let run out and ignored. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #ping(): Promise<void> {
    if (this.#stopped) return;
    const t = this.trunk;
    const started = Date.now();
    const target = trunkUri(t);
    let answered: boolean;
    let why = '';
    try {
      const result = await this.ua.probe(target, { timeoutMs: t.answerTimeout * 1000 });
      answered = result.answered;
      if (!result.answered) why = result.why;
    } catch (error) {
      // The user agent is closing.
      answered = false;
      why = error instanceof Error ? error.message : String(error);
    }
    if (this.#stopped) return;
    const next = answered ? 'up' : 'down';
    if (answered) this.#lastReplyAt = this.clock.now();
    if (next !== this.#status) {
      if (next === 'down') this.log.warn({ trunk: t.name, why }, 'trunk stopped answering OPTIONS: down');
      else this.log.info({ trunk: t.name }, 'trunk answers OPTIONS: up');
    }
    this.#status = next;
    this.#timer = setTimeout(() => void this.#ping(), Math.max(0, t.optionsPing * 1000 - (Date.now() - started)));
    this.#timer.unref();
  }
}
