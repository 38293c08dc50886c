import type { SipUserAgent } from '../sip/ua/sip-user-agent.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';
import type { Trunk } from '../store/repos/trunk-repo.js';
import { TrunkHealth, type HealthView } from './trunk-health.js';
import { defaultRegistrationTiming, TrunkRegistration, type RegistrationTiming, type RegistrationView } from './trunk-registration.js';

export interface TrunkSupervisorOptions {
  store: Store;
  ua: SipUserAgent;
  clock: Clock;
  logger: Logger;
  /** Back-off of failed registrations. Default 30 s doubling to 10 min. */
  registrationTiming?: Partial<RegistrationTiming>;
}

interface Watched {
  trunk: Trunk;
  registration: TrunkRegistration | undefined;
  health: TrunkHealth | undefined;
}

/** The fields whose change means registering anew (un-REGISTER the old binding, REGISTER the new one). */
function registrationKey(t: Trunk): string {
  return JSON.stringify([t.register, t.host, t.port, t.transport, t.username, t.password, t.authUsername, t.realm, t.registerExpires, t.fromDomain]);
}

function healthKey(t: Trunk): string {
  return JSON.stringify([t.optionsPing, t.host, t.port, t.transport, t.answerTimeout]);
}

/**
 * The live side of the trunks (SPEC §13): registers every `register: true`
 * trunk and pings every trunk with `options_ping` > 0, from the start and
 * whenever trunks are created, changed or deleted through the API
 * (`reload()`); un-registers on delete and on `close()`.
 */
export class TrunkSupervisor {
  readonly #o: TrunkSupervisorOptions;
  readonly #timing: RegistrationTiming;
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();
  /** Reloads run one after the other, so two API changes never start two registrations of one trunk. */
  #reloads: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: TrunkSupervisorOptions) {
    this.#o = options;
    this.#timing = { ...defaultRegistrationTiming, ...options.registrationTiming };
    this.#log = options.logger.child({ component: 'trunks' });
  }

  /** Reads the trunks again and starts, restarts or stops their registrations and pings. */
  reload(): Promise<void> {
    const run = this.#reloads.then(() => this.#reload());
    this.#reloads = run.catch((error: unknown) => this.#log.error({ err: error }, 'trunk reload failed'));
    return run;
  }

  async #reload(): Promise<void> {
    if (this.#closed) return;
    const trunks = await this.#o.store.trunks.list();
    const stops: Array<Promise<void>> = [];
    const ids = new Set(trunks.map((t) => t.id));
    for (const [id, watched] of this.#watched) {
      if (ids.has(id)) continue;
      this.#watched.delete(id);
      watched.health?.stop();
      if (watched.registration) stops.push(watched.registration.stop());
    }
    for (const trunk of trunks) {
      const old = this.#watched.get(trunk.id);
      if (old && old.trunk.updatedAt === trunk.updatedAt) continue;
      let registration = old?.registration;
      if (!old || registrationKey(old.trunk) !== registrationKey(trunk)) {
        if (registration) stops.push(registration.stop());
        registration = trunk.register ? new TrunkRegistration(trunk, this.#o.ua, this.#timing, this.#o.clock, this.#log) : undefined;
        registration?.start();
      }
      let health = old?.health;
      if (!old || healthKey(old.trunk) !== healthKey(trunk)) {
        health?.stop();
        health = trunk.optionsPing > 0 ? new TrunkHealth(trunk, this.#o.ua, this.#o.clock, this.#log) : undefined;
        health?.start();
      }
      this.#watched.set(trunk.id, { trunk, registration, health });
    }
    await Promise.all(stops);
  }

  /** Registration and health of a trunk as the API shows them. */
  statusOf(trunk: Trunk): { registration: RegistrationView; health: HealthView } {
    const watched = this.#watched.get(trunk.id);
    const registration: RegistrationView = !trunk.register
      ? { status: 'disabled', expires_at: null, last_error: null }
      : watched?.registration?.view ?? { status: 'registering', expires_at: null, last_error: null };
    return { registration, health: watched?.health?.view ?? { status: 'unknown', last_reply_at: null } };
  }

  /** Whether the trunk stopped answering OPTIONS. */
  isDown(trunkId: string): boolean {
    return this.#watched.get(trunkId)?.health?.down ?? false;
  }

  /**
   * The registered trunk whose registrar (its host) an INVITE came from: a
   * carrier we registered with sends our calls from there.
   */
  registeredTrunkAt(address: string): Trunk | undefined {
    const bare = address.replace(/^::ffff:/, '');
    for (const { trunk, registration } of this.#watched.values()) {
      if (registration?.live && registration.addresses.includes(bare)) return trunk;
    }
    return undefined;
  }

  /** Stops every ping and un-registers every trunk (2 s at most). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reloads;
    const watched = [...this.#watched.values()];
    this.#watched.clear();
    for (const w of watched) w.health?.stop();
    await Promise.all(watched.map((w) => w.registration?.stop()));
  }
}
