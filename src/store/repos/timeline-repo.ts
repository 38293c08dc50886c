import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { TimelineEntry, TimelineType } from '../../shared/timeline.js';

/** Rows one purge statement deletes at most, so a purge never holds the database (or SQLite's thread) for long. */
const purgeChunk = 5000;

/** A call's timeline entries (SPEC §14). Written in batches by `TimelineWriter`. */
export class TimelineRepo {
  constructor(private readonly db: Db) {}

  /** Writes the entries in one INSERT; `data` is each entry's fields already as JSON. */
  async insertMany(rows: ReadonlyArray<Omit<TimelineEntry, 'data'> & { data: string }>): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insertInto('call_timeline')
      .values(rows.map((r) => ({ call_id: r.callId, seq: r.seq, at: r.at, type: r.type, data: r.data }))).execute();
  }

  /** The call's entries in the order they happened. */
  async list(callId: string): Promise<TimelineEntry[]> {
    const rows = await this.db.selectFrom('call_timeline').selectAll().where('call_id', '=', callId).orderBy('seq', 'asc').execute();
    return rows.map((r) => ({ callId: r.call_id, seq: Number(r.seq), at: r.at, type: r.type as TimelineType, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  /** Deletes entries older than `before`, a chunk per statement; answers how many went. */
  async purgeBefore(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    let total = 0;
    for (;;) {
      const result = await sql`delete from call_timeline where (call_id, seq) in (
        select call_id, seq from call_timeline where at < ${cutoff} limit ${purgeChunk})`.execute(this.db);
      const deleted = Number(result.numAffectedRows ?? 0);
      total += deleted;
      if (deleted < purgeChunk) return total;
    }
  }
}
