import type { Db, SipRegistrationsTable } from '../db.js';

/** A softphone's binding as stored: plain strings and numbers (the store knows nothing of SIP). */
export interface SipRegistration {
  /** `sip:user@domain`, lower case. */
  aor: string;
  /** The Contact URI as registered (serialized). */
  contact: string;
  workspaceId: string;
  /** Where requests for the binding go (serialized URI). */
  target: string;
  sourceAddress: string;
  sourcePort: number;
  transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  callId: string;
  cseq: number;
  expiresAt: Date;
  /** 0–1. */
  q: number;
}

function toRegistration(row: SipRegistrationsTable): SipRegistration {
  return {
    aor: row.aor, contact: row.contact, workspaceId: row.workspace_id, target: row.target,
    sourceAddress: row.source_address, sourcePort: Number(row.source_port), transport: row.transport === 'tcp' || row.transport === 'tls' || row.transport === 'ws' || row.transport === 'wss' ? row.transport : 'udp',
    callId: row.call_id, cseq: Number(row.cseq), expiresAt: new Date(row.expires_at), q: Number(row.q_thousandths) / 1000,
  };
}

/**
 * The registrar's durable copy (SPEC §13): written on every REGISTER that
 * changes a binding, read once at start. A row past `expires_at` is never
 * answered and `deleteExpired` sweeps it.
 */
export class SipRegistrationRepo {
  constructor(private readonly db: Db) {}

  /** Inserts the binding, or refreshes the one of the same AOR and contact. */
  async save(registration: SipRegistration, now: Date): Promise<void> {
    const row: SipRegistrationsTable = {
      aor: registration.aor, contact: registration.contact, workspace_id: registration.workspaceId, target: registration.target,
      source_address: registration.sourceAddress, source_port: registration.sourcePort, transport: registration.transport,
      call_id: registration.callId, cseq: registration.cseq, expires_at: registration.expiresAt.toISOString(),
      q_thousandths: Math.round(registration.q * 1000), updated_at: now.toISOString(),
    };
    const { aor: _aor, contact: _contact, ...changes } = row;
    await this.db.insertInto('sip_registrations').values(row).onConflict((oc) => oc.columns(['aor', 'contact']).doUpdateSet(changes)).execute();
  }

  /** Removes one binding (Expires: 0 on its contact). */
  async remove(aor: string, contact: string): Promise<void> {
    await this.db.deleteFrom('sip_registrations').where('aor', '=', aor).where('contact', '=', contact).execute();
  }

  /** Removes every binding of an AOR (`Contact: *`). */
  async removeAll(aor: string): Promise<void> {
    await this.db.deleteFrom('sip_registrations').where('aor', '=', aor).execute();
  }

  /** Live bindings of one AOR, highest q first. */
  async listByAor(aor: string, now: Date): Promise<SipRegistration[]> {
    const rows = await this.db.selectFrom('sip_registrations').selectAll().where('aor', '=', aor).where('expires_at', '>', now.toISOString())
      .orderBy('q_thousandths', 'desc').orderBy('contact', 'asc').execute();
    return rows.map(toRegistration);
  }

  /** Every live binding (loaded at start). */
  async listLive(now: Date): Promise<SipRegistration[]> {
    const rows = await this.db.selectFrom('sip_registrations').selectAll().where('expires_at', '>', now.toISOString())
      .orderBy('aor', 'asc').orderBy('contact', 'asc').execute();
    return rows.map(toRegistration);
  }

  /** Deletes bindings expired at `now`; answers how many. */
  async deleteExpired(now: Date): Promise<number> {
    const result = await this.db.deleteFrom('sip_registrations').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
