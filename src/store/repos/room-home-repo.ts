import type { Db } from '../db.js';

export interface RoomHomeClaim {
  workspaceId: string;
  room: string;
  /** The node asking: it becomes the home if the room has none, or if its home is dead. */
  nodeId: string;
  now: Date;
  /** A home node whose heartbeat is older than this (or that has no row) is dead and may be replaced. */
  deadBefore: Date;
}

/** Where a room lives after a claim, and how this node came to know it. */
export interface RoomHome {
  nodeId: string;
  /** `claimed`: the room had no home and this node is it now; `took_over`: the old home was dead; `existing`: another live node (or this one already) is home. */
  how: 'claimed' | 'took_over' | 'existing';
}

/**
 * The home node of each live conference room (SPEC §16). The primary key on
 * (workspace, room) makes the insert-if-absent atomic on PostgreSQL and SQLite
 * alike: of several nodes claiming at once exactly one inserts. A dead home is
 * replaced by a conditional update, so of several joiners exactly one wins
 * that too. Heartbeat times are ISO strings of one length and compare as text.
 */
export class RoomHomeRepo {
  constructor(private readonly db: Db) {}

  async claim(claim: RoomHomeClaim): Promise<RoomHome> {
    // A few rounds at most: the row may be released, or taken over, between our steps.
    for (let round = 0; round < 3; round += 1) {
      const inserted = await this.db.insertInto('room_homes').values({
        workspace_id: claim.workspaceId, room: claim.room, node_id: claim.nodeId, claimed_at: claim.now.toISOString(),
      }).onConflict((oc) => oc.columns(['workspace_id', 'room']).doNothing()).returning('node_id').executeTakeFirst();
      if (inserted) return { nodeId: claim.nodeId, how: 'claimed' };
      const current = await this.get(claim.workspaceId, claim.room);
      if (current === undefined) continue;
      if (current === claim.nodeId || !(await this.nodeIsDead(current, claim.deadBefore))) return { nodeId: current, how: 'existing' };
      // Compare-and-swap on the dead node read above: of several joiners racing, the first
      // update changes node_id and the others' `node_id = current` then matches nothing.
      const taken = await this.db.updateTable('room_homes')
        .set({ node_id: claim.nodeId, claimed_at: claim.now.toISOString() })
        .where('workspace_id', '=', claim.workspaceId).where('room', '=', claim.room).where('node_id', '=', current)
        .returning('node_id').executeTakeFirst();
      if (taken) return { nodeId: claim.nodeId, how: 'took_over' };
    }
    throw new Error(`room ${claim.room}: its home changed three times while being claimed`);
  }

  /** A node is dead when its heartbeat is older than `deadBefore` or it has no row at all. */
  private async nodeIsDead(nodeId: string, deadBefore: Date): Promise<boolean> {
    const row = await this.db.selectFrom('nodes').select('heartbeat_at').where('id', '=', nodeId).executeTakeFirst();
    return !row || row.heartbeat_at < deadBefore.toISOString();
  }

  /** The home node of a live room, or undefined when the room is not live anywhere. */
  async get(workspaceId: string, room: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('room_homes').select('node_id')
      .where('workspace_id', '=', workspaceId).where('room', '=', room).executeTakeFirst();
    return row?.node_id;
  }

  /** The live rooms of a workspace and their homes. */
  async list(workspaceId: string): Promise<Array<{ room: string; nodeId: string }>> {
    const rows = await this.db.selectFrom('room_homes').select(['room', 'node_id']).where('workspace_id', '=', workspaceId).orderBy('room').execute();
    return rows.map((r) => ({ room: r.room, nodeId: r.node_id }));
  }

  /** The room ended on its home: the row goes, unless another node has taken the room over meanwhile. */
  async release(workspaceId: string, room: string, nodeId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('room_homes')
      .where('workspace_id', '=', workspaceId).where('room', '=', room).where('node_id', '=', nodeId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
