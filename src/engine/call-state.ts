import type { CallStatus } from '../store/repos/call-repo.js';

/**
 * The life of a call leg (SPEC §4):
 *
 * ```
 *   queued ──► initiated ──► ringing ──► in-progress ──► completed
 *     │            │  └──────────┼────────────┘   │
 *     │            │             │                 └──► failed
 *     └────────────┴─────────────┴──► busy | no-answer | failed | canceled
 * ```
 *
 * `in-progress` is reached only by an answer; a leg that never got there
 * ends in busy, no-answer, failed or canceled and is not billed.
 */
export const allowedMoves: Readonly<Record<CallStatus, readonly CallStatus[]>> = {
  queued: ['initiated', 'failed', 'canceled'],
  initiated: ['ringing', 'in-progress', 'busy', 'no-answer', 'failed', 'canceled'],
  ringing: ['in-progress', 'busy', 'no-answer', 'failed', 'canceled'],
  'in-progress': ['completed', 'failed'],
  completed: [],
  busy: [],
  'no-answer': [],
  failed: [],
  canceled: [],
};

export const terminalStatuses: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

export function isTerminal(status: CallStatus): boolean {
  return terminalStatuses.includes(status);
}

export class IllegalTransitionError extends Error {
  constructor(readonly from: CallStatus, readonly to: CallStatus) {
    super(`a call cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** The state of one leg, with the time of each move. */
export class CallState {
  #status: CallStatus;
  readonly #at = new Map<CallStatus, Date>();

  constructor(initial: CallStatus, now: Date) {
    this.#status = initial;
    this.#at.set(initial, now);
  }

  get status(): CallStatus {
    return this.#status;
  }

  get ended(): boolean {
    return isTerminal(this.#status);
  }

  /** When the leg entered `status`, if it did. */
  at(status: CallStatus): Date | undefined {
    return this.#at.get(status);
  }

  canMove(to: CallStatus): boolean {
    return allowedMoves[this.#status].includes(to);
  }

  /** Moves to `to`, or throws IllegalTransitionError. */
  transition(to: CallStatus, now: Date): void {
    if (!this.canMove(to)) throw new IllegalTransitionError(this.#status, to);
    this.#status = to;
    this.#at.set(to, now);
  }
}
