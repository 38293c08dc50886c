import type { Db, DialectName } from '../db.js';
import { newId, newSecret } from '../../shared/ids.js';
import { PreparedQuery } from '../prepared-query.js';

/** A write that changes nothing, for its row lock (see `lockForUpdate`). */
const lockRow = new PreparedQuery((db: Db, id: string) => db.updateTable('workspaces').set((eb) => ({ name: eb.ref('name') })).where('id', '=', id));

export interface Workspace {
  id: string;
  name: string;
  signingSecret: string;
  previousSigningSecret: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
}

type Row = {
  id: string; name: string; signing_secret: string; previous_signing_secret: string | null;
  previous_secret_expires_at: string | null; created_at: string;
};

function toWorkspace(row: Row): Workspace {
  return {
    id: row.id, name: row.name, signingSecret: row.signing_secret, previousSigningSecret: row.previous_signing_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at, createdAt: row.created_at,
  };
}

/** Every call reads its workspace. */
const byId = new PreparedQuery((db: Db, id: string) => db.selectFrom('workspaces').selectAll().where('id', '=', id));

export class WorkspaceRepo {
  constructor(private readonly db: Db, private readonly dialect: DialectName) {}

  async create(input: { name: string; now: Date }): Promise<Workspace> {
    const row: Row = {
      id: newId('ws'), name: input.name, signing_secret: newSecret('whsec'), previous_signing_secret: null,
      previous_secret_expires_at: null, created_at: input.now.toISOString(),
    };
    await this.db.insertInto('workspaces').values(row).execute();
    return toWorkspace(row);
  }

  async get(id: string): Promise<Workspace | undefined> {
    const row = await byId.takeFirst(this.db, id);
    return row ? toWorkspace(row) : undefined;
  }

  /**
   * Locks the workspace's row until the transaction ends, so money checks of
   * one workspace run one after another: PostgreSQL holds the row lock of the
   * no-op update until commit (later readers then see what the first wrote).
   * SQLite needs nothing: its one connection runs one transaction at a time,
   * and the no-op update would still write the row's page to the WAL at
   * every admission. Call it inside a transaction.
   */
  async lockForUpdate(id: string): Promise<void> {
    if (this.dialect === 'sqlite') return;
    await lockRow.execute(this.db, id);
  }

  async list(): Promise<Workspace[]> {
    const rows = await this.db.selectFrom('workspaces').selectAll().orderBy('id', 'asc').execute();
    return rows.map(toWorkspace);
  }

  /** Replaces the signing secret; the old one stays valid for `graceSeconds`. */
  async rotateSigningSecret(id: string, now: Date, graceSeconds: number): Promise<Workspace | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    await this.db.updateTable('workspaces').set({
      signing_secret: newSecret('whsec'),
      previous_signing_secret: current.signingSecret,
      previous_secret_expires_at: new Date(now.getTime() + graceSeconds * 1000).toISOString(),
    }).where('id', '=', id).execute();
    return this.get(id);
  }
}
