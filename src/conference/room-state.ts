/**
 * The life cycle of a conference room:
 *
 *   waiting ──(a startOnEnter participant is in)──► started
 *      │                                               │
 *      └──(empty, endOnExit, end())──► ended ◄─────────┘
 *
 * `waiting`: participants hear wait audio and not each other.
 * `started`: audio flows; stays started even if the one who started it leaves.
 * `ended`: terminal; the room is gone from the manager.
 */
import type { RoomState } from './conference-types.js';

const TRANSITIONS: Record<RoomState, readonly RoomState[]> = {
  waiting: ['started', 'ended'],
  started: ['ended'],
  ended: [],
};

export class RoomStateMachine {
  #state: RoomState = 'waiting';

  get state(): RoomState {
    return this.#state;
  }

  can(to: RoomState): boolean {
    return TRANSITIONS[this.#state].includes(to);
  }

  /** Move to `to`; throws on a move the table does not allow. */
  transition(to: RoomState): void {
    if (!this.can(to)) throw new Error(`conference room cannot go from ${this.#state} to ${to}`);
    this.#state = to;
  }
}
