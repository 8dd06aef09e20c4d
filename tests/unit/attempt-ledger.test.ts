/**
 * The ledger a phase's attempts hand on, which tells failures (spending the phase's retries) from
 * interruptions (not spending them).
 */
import { describe, expect, it } from 'vitest';
import { ledgerAtStart, readLedger, unrecordedAttempts, withLedger } from '../../src/activities/attempt-ledger.js';

describe('the attempt ledger', () => {
  it('starts empty on a first attempt, and reads back what an attempt recorded', () => {
    expect(ledgerAtStart(undefined, 1)).toEqual({ failures: 0, interruptions: 0 });
    const beat = withLedger({ failures: 1, interruptions: 0, last: { kind: 'failure', why: 'PhaseCommandFailed' } }, { phase: '3' });
    expect(beat.phase).toBe('3');
    expect(ledgerAtStart(beat, 2)).toEqual({ failures: 1, interruptions: 0, last: { kind: 'failure', why: 'PhaseCommandFailed' } });
  });

  it('counts attempts that recorded nothing as interrupted, unless Temporal timed the last one out', () => {
    const beat = withLedger({ failures: 1, interruptions: 0 });
    expect(unrecordedAttempts(beat, 4)).toBe(2);
    expect(ledgerAtStart(beat, 4)).toMatchObject({ failures: 1, interruptions: 2, last: { kind: 'interruption' } });
    expect(ledgerAtStart(beat, 4, 'timed out')).toMatchObject({ failures: 2, interruptions: 1, last: { kind: 'failure', why: 'ran past its timeout' } });
  });

  it('starts afresh when the attempt counter went back (an operator reset a phase between attempts)', () => {
    expect(ledgerAtStart(withLedger({ failures: 2, interruptions: 1 }), 1)).toEqual({ failures: 0, interruptions: 0, last: { kind: 'interruption', why: 'reset by an operator' } });
  });

  it('ignores heartbeat details it did not write', () => {
    expect(readLedger({ progress: 40 })).toEqual({ failures: 0, interruptions: 0 });
    expect(readLedger({ baton_attempts: { failures: -1, interruptions: 'x', last: { kind: 'weird', why: 1 } } })).toEqual({ failures: 0, interruptions: 0 });
    expect(readLedger('not an object')).toEqual({ failures: 0, interruptions: 0 });
  });
});
