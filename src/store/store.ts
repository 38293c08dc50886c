import os from 'node:os';
import type { Db, DialectName } from './db.js';
import { openDatabase, type OpenDatabaseOptions } from './open-database.js';
import { ReadCache } from './read-cache.js';
import { ApiKeyRepo } from './repos/api-key-repo.js';
import { CallRepo } from './repos/call-repo.js';
import { IdempotencyRepo } from './repos/idempotency-repo.js';
import { LedgerRepo } from './repos/ledger-repo.js';
import { NodeRepo } from './repos/node-repo.js';
import { NumberRepo } from './repos/number-repo.js';
import { OutboxRepo } from './repos/outbox-repo.js';
import { RateRepo } from './repos/rate-repo.js';
import { RoomHomeRepo } from './repos/room-home-repo.js';
import { RecordingRepo } from './repos/recording-repo.js';
import { ReservationRepo } from './repos/reservation-repo.js';
import { SettingsRepo } from './repos/settings-repo.js';
import { SipCredentialRepo } from './repos/sip-credential-repo.js';
import { SipRegistrationRepo } from './repos/sip-registration-repo.js';
import { SystemStateRepo } from './repos/system-state-repo.js';
import { TimelineRepo } from './repos/timeline-repo.js';
import { TrunkRepo } from './repos/trunk-repo.js';
import { WebhookEndpointRepo } from './repos/webhook-endpoint-repo.js';
import { WorkspaceRepo } from './repos/workspace-repo.js';

/** Every repository, bound to one connection or one transaction. */
export class Repos {
  readonly workspaces: WorkspaceRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly numbers: NumberRepo;
  readonly calls: CallRepo;
  readonly recordings: RecordingRepo;
  readonly rates: RateRepo;
  readonly ledger: LedgerRepo;
  readonly reservations: ReservationRepo;
  readonly settings: SettingsRepo;
  readonly webhookEndpoints: WebhookEndpointRepo;
  readonly outbox: OutboxRepo;
  readonly idempotency: IdempotencyRepo;
  readonly systemState: SystemStateRepo;
  readonly trunks: TrunkRepo;
  readonly sipCredentials: SipCredentialRepo;
  readonly sipRegistrations: SipRegistrationRepo;
  readonly timeline: TimelineRepo;
  readonly nodes: NodeRepo;
  readonly roomHomes: RoomHomeRepo;

  constructor(readonly db: Db, readonly cache: ReadCache, readonly nodeId: string, readonly dialect: DialectName) {
    this.workspaces = new WorkspaceRepo(db, dialect);
    this.apiKeys = new ApiKeyRepo(db);
    this.numbers = new NumberRepo(db);
    this.calls = new CallRepo(db, nodeId);
    this.recordings = new RecordingRepo(db);
    this.rates = new RateRepo(db, cache);
    this.ledger = new LedgerRepo(db);
    this.reservations = new ReservationRepo(db);
    this.settings = new SettingsRepo(db, cache);
    this.webhookEndpoints = new WebhookEndpointRepo(db, cache);
    this.outbox = new OutboxRepo(db);
    this.idempotency = new IdempotencyRepo(db);
    this.systemState = new SystemStateRepo(db);
    this.trunks = new TrunkRepo(db, cache);
    this.sipCredentials = new SipCredentialRepo(db);
    this.sipRegistrations = new SipRegistrationRepo(db);
    this.timeline = new TimelineRepo(db);
    this.nodes = new NodeRepo(db);
    this.roomHomes = new RoomHomeRepo(db);
  }
}

/** The database with its repositories. `close()` is idempotent. */
export class Store extends Repos {
  #closed = false;

  private constructor(db: Db, dialect: DialectName, nodeId: string) {
    // SQLite: this process is the only writer. PostgreSQL: other nodes may write, so entries expire.
    super(db, new ReadCache(dialect === 'sqlite' ? Number.POSITIVE_INFINITY : 1000), nodeId, dialect);
  }

  /** `nodeId`: the node this process is (SPEC §16; default the host name), written on the calls it creates. */
  static async open(options: OpenDatabaseOptions & { nodeId?: string }): Promise<Store> {
    const { db, dialect } = await openDatabase(options);
    return new Store(db, dialect, options.nodeId ?? os.hostname());
  }

  /** Runs `fn` in one database transaction: state changes and their outbox rows commit together. */
  async transaction<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => fn(new Repos(tx, this.cache.forTransaction(), this.nodeId, this.dialect)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.destroy();
  }
}
