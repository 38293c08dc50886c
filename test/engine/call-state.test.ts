import { describe, expect, it } from 'vitest';
import { allowedMoves, CallState, IllegalTransitionError, isTerminal } from '../../src/engine/call-state.js';
import { callStatuses } from '../../src/store/repos/call-repo.js';

describe('callState', () => {
  const t0 = new Date('2026-11-21T10:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);

  it('walks queued → initiated → ringing → in-progress → completed, remembering when', () => {
    const state = new CallState('queued', t0);
    state.transition('initiated', at(0));
    state.transition('ringing', at(1));
    state.transition('in-progress', at(4));
    state.transition('completed', at(94));
    expect(state.status).toBe('completed');
    expect(state.ended).toBe(true);
    expect(state.at('in-progress')).toEqual(at(4));
  });

  it('throws on an illegal move and stays where it was', () => {
    const state = new CallState('ringing', t0);
    expect(() => state.transition('completed', at(1))).toThrow(IllegalTransitionError);
    expect(() => state.transition('queued', at(1))).toThrow('a call cannot go from ringing to queued');
    expect(state.status).toBe('ringing');
    state.transition('no-answer', at(30));
    expect(() => state.transition('in-progress', at(31))).toThrow(IllegalTransitionError);
  });

  it('ends only in a terminal status, and terminal statuses go nowhere', () => {
    for (const status of callStatuses) {
      expect(allowedMoves[status].length === 0).toBe(isTerminal(status));
    }
    // Only an answer reaches in-progress, and only an answered leg completes.
    const intoInProgress = callStatuses.filter((s) => allowedMoves[s].includes('in-progress'));
    expect(intoInProgress).toEqual(['initiated', 'ringing']);
    expect(callStatuses.filter((s) => allowedMoves[s].includes('completed'))).toEqual(['in-progress']);
  });
});
