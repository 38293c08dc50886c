/** DTMF digits and their RFC 4733 event codes (0-9, *, #, A-D). */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

export const EVENT_DIGITS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/** RFC 4733 event code for a digit, or -1. */
export function digitToEvent(digit: string): number {
  return EVENT_DIGITS.indexOf(digit.toUpperCase() as DtmfDigit);
}

export function isDtmfDigit(value: string): value is DtmfDigit {
  return digitToEvent(value) >= 0 && value.length === 1;
}

/** Row (low) and column (high) frequencies of the DTMF keypad. */
export const DTMF_ROWS = [697, 770, 852, 941] as const;
export const DTMF_COLS = [1209, 1336, 1477, 1633] as const;
const KEYPAD: readonly (readonly DtmfDigit[])[] = [
  ['1', '2', '3', 'A'],
  ['4', '5', '6', 'B'],
  ['7', '8', '9', 'C'],
  ['*', '0', '#', 'D'],
];

export function keypadDigit(row: number, col: number): DtmfDigit | undefined {
  return KEYPAD[row]?.[col];
}

/** The [low, high] frequency pair of a digit. */
export function digitFrequencies(digit: DtmfDigit): [number, number] {
  for (let r = 0; r < 4; r++) {
    const c = KEYPAD[r]?.indexOf(digit) ?? -1;
    if (c >= 0) return [DTMF_ROWS[r] ?? 0, DTMF_COLS[c] ?? 0];
  }
  throw new RangeError(`not a DTMF digit: ${digit}`);
}

/** How a key reached a leg: in its media (RFC 4733 events, or tones) or as SIP INFO. */
export type DtmfVia = 'rfc4733' | 'inband' | 'info';

/** What a leg's key events carry: the digit, and how it came (absent from sources that do not say). */
export type KeyEvents = { dtmf: [digit: string, via?: DtmfVia] };

/** A detected digit, whichever way it arrived. */
export interface DtmfEvent {
  digit: DtmfDigit;
  source: 'rfc4733' | 'inband';
  /** Tone length in ms, when known. */
  durationMs?: number;
}
