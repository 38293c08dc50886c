import type { Clock } from '../shared/clock.js';
import { nodeDeadAfterMs } from './dead-node-reaper.js';
import type { NodeRecord } from '../store/repos/node-repo.js';
import type { Store } from '../store/store.js';

/** Where a participant of a room goes: this node's room, or over an internal leg to the room's home. */
export type RoomPlace = { here: true; done: () => void } | { here: false; node: NodeRecord };

export interface RoomHomesOptions {
  store: Store;
  nodeId: string;
  clock: Clock;
}

/**
 * The home node of each conference room, when several nodes form one
 * platform (SPEC §16): the first node to claim a room name in the store
 * holds the room; a participant whose call is on another node joins it over
 * an internal SIP/RTP leg (`InternalLegs`).
 *
 * A claim and the room it is for must not come apart: a room that ends
 * here releases its home row only when no new local join of the name is on
 * its way (`done()` of a `here` place marks the room as created), and claims
 * and releases of one room name run one after another on this node.
 */
export class RoomHomes {
  readonly #o: RoomHomesOptions;
  /** Per room: claims and releases in order. */
  readonly #queue = new Map<string, Promise<unknown>>();
  /** Per room: local joins claimed but whose room is not created yet. */
  readonly #pending = new Map<string, number>();

  constructor(options: RoomHomesOptions) {
    this.#o = options;
  }

  /**
   * Where a new participant of room `name` goes: claims the room for this
   * node if it has no live home (atomically in the store). A `here` place
   * must be `done()` once the local join has created the room (or given up).
   */
  place(workspaceId: string, name: string): Promise<RoomPlace> {
    const key = roomKey(workspaceId, name);
    return this.#serially(key, async (): Promise<RoomPlace> => {
      const now = this.#o.clock.now();
      const home = await this.#o.store.roomHomes.claim({
        workspaceId, room: name, nodeId: this.#o.nodeId, now, deadBefore: new Date(now.getTime() - nodeDeadAfterMs),
      });
      if (home.nodeId === this.#o.nodeId) {
        this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
        let done = false;
        return {
          here: true,
          done: () => {
            if (done) return;
            done = true;
            const left = (this.#pending.get(key) ?? 1) - 1;
            if (left > 0) this.#pending.set(key, left);
            else this.#pending.delete(key);
          },
        };
      }
      const node = await this.#o.store.nodes.get(home.nodeId);
      // A home row naming a node with no row at all is dead by definition: claim() took it over above.
      if (!node) throw new Error(`room ${name}: its home ${home.nodeId} has no node row`);
      return { here: false, node };
    });
  }

  /** The room ended on this node: its home row goes, unless a local join of the name is under way or its new room lives here. */
  release(workspaceId: string, name: string, roomLivesHere: () => boolean): Promise<void> {
    const key = roomKey(workspaceId, name);
    return this.#serially(key, async () => {
      if ((this.#pending.get(key) ?? 0) > 0 || roomLivesHere()) return;
      await this.#o.store.roomHomes.release(workspaceId, name, this.#o.nodeId);
    });
  }

  #serially<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#queue.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.#queue.set(key, run);
    void run.catch(() => undefined).finally(() => {
      if (this.#queue.get(key) === run) this.#queue.delete(key);
    });
    return run;
  }
}

function roomKey(workspaceId: string, name: string): string {
  return `${workspaceId}\u0000${name}`;
}
