import { sql } from 'kysely';
import type { Db, NodesTable } from '../db.js';
import { isLive } from './call-repo.js';

export type NodeState = NodesTable['state'];

export interface NodeRecord {
  id: string;
  sipAddress: string;
  httpUrl: string;
  state: NodeState;
  liveCalls: number;
  startedAt: string;
  heartbeatAt: string;
}

/** What a node writes about itself at every heartbeat. */
export interface NodeBeat {
  id: string;
  sipAddress: string;
  httpUrl: string;
  liveCalls: number;
  /** This node is draining (SIGTERM, or it noticed a drain request): written so peers and the listing see it. */
  draining: boolean;
  now: Date;
}

const toNode = (row: NodesTable): NodeRecord => ({
  id: row.id, sipAddress: row.sip_address, httpUrl: row.http_url, state: row.state, liveCalls: Number(row.live_calls),
  startedAt: row.started_at, heartbeatAt: row.heartbeat_at,
});

/**
 * The nodes of the platform (SPEC §16), one row each. Times are ISO strings
 * of one length (`toISOString`), so they compare as text on both dialects.
 */
export class NodeRepo {
  constructor(private readonly db: Db) {}

  /** A node starting: its row, fresh (`active`, started now), whatever an earlier run of it left. */
  async register(beat: NodeBeat): Promise<void> {
    const at = beat.now.toISOString();
    const row = {
      sip_address: beat.sipAddress, http_url: beat.httpUrl, state: beat.draining ? 'draining' as const : 'active' as const,
      live_calls: beat.liveCalls, started_at: at, heartbeat_at: at,
    };
    await this.db.insertInto('nodes').values({ id: beat.id, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
  }

  /**
   * One heartbeat: the time, live call count and addresses. The state is kept
   * (a peer may have asked this node to drain) unless this node is draining
   * itself. Answers the state now in the store, so the node sees a drain
   * request; a missing row (deleted by an operator) is written again.
   */
  async beat(beat: NodeBeat): Promise<NodeState> {
    const at = beat.now.toISOString();
    const row = await this.db.updateTable('nodes')
      .set({
        sip_address: beat.sipAddress, http_url: beat.httpUrl, live_calls: beat.liveCalls, heartbeat_at: at,
        ...(beat.draining ? { state: 'draining' as const } : {}),
      })
      .where('id', '=', beat.id).returning('state').executeTakeFirst();
    if (row) return row.state;
    await this.register(beat);
    return beat.draining ? 'draining' : 'active';
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.db.selectFrom('nodes').selectAll().orderBy('id', 'asc').execute()).map(toNode);
  }

  async get(id: string): Promise<NodeRecord | undefined> {
    const row = await this.db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toNode(row) : undefined;
  }

  /** Asks node `id` to drain: it sees the state at its next heartbeat. Answers the node, or undefined when there is none. */
  async requestDrain(id: string): Promise<NodeRecord | undefined> {
    const row = await this.db.updateTable('nodes').set({ state: 'draining' }).where('id', '=', id).returningAll().executeTakeFirst();
    return row ? toNode(row) : undefined;
  }

  /**
   * Nodes other than `self` silent since before `cutoff` that still hold
   * live calls in the store: the dead ones whose calls a peer must end.
   */
  async silentWithLiveCalls(self: string, cutoff: Date): Promise<NodeRecord[]> {
    const rows = await this.db.selectFrom('nodes').selectAll()
      .where('id', '!=', self).where('heartbeat_at', '<', cutoff.toISOString())
      .where(({ exists, selectFrom }) => exists(selectFrom('calls').select(sql.lit(1).as('one'))
        .whereRef('calls.node_id', '=', 'nodes.id')
        .where(isLive)))
      .orderBy('id', 'asc').execute();
    return rows.map(toNode);
  }
}
