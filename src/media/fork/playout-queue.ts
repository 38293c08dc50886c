/**
 * The caller-bound side of an audio stream: 8 kHz PCM from the server waits
 * here and is handed to the endpoint one 20 ms frame per tick, so we always
 * know how much has actually been played. Marks (and the `playDone` of
 * playAudio clips) live beside the audio as sample positions, never inside
 * the samples: one placed after N samples were queued is due once N samples
 * have been played, and a mark is "cleared" if `clear()` (killAudio) or
 * `clearMarks()` drops it.
 *
 * The playout cushion adapts (SPEC §19):
 * - It starts at `minCushionSamples` (20 ms): playback starts once that much
 *   is queued (or after `maxHoldTicks` ticks, so a short last chunk is not
 *   held back).
 * - A gap mid-stream (the queue ran dry and audio came again within three
 *   ticks: the sender's jitter beat the cushion) grows it by 10 ms, up to
 *   `maxCushionSamples`; ten seconds without a gap shrink it by 5 ms. A
 *   pause longer than that (end of an utterance) is not a gap.
 * - While the server sends in real time (what came in over the last 2 s is
 *   within −20 %/+25 % of what was played), playback runs up to 5 % faster
 *   or slower (linear interpolation) to hold the queue near the cushion, so
 *   a sender whose timer runs a few percent slow gets no gaps and one a
 *   little fast gets no growing delay.
 * - When, with such a sender, the queue stays more than a frame above the
 *   cushion for two 500 ms windows running — the delay a stall left behind
 *   (the media clock skipped ticks, or the sender went quiet and then caught
 *   up) — the excess is dropped at once, instead of delaying the rest of
 *   the call. A burst (TTS sent ahead: far more in than out) is never
 *   dropped or sped up.
 *
 * Sent on arrival (`frameNow` / `commitNow`): while the leg's audio is the
 * stream's alone, each whole frame goes to the caller as it arrives, with
 * no cushion (the player decides; see `DownlinkPlayer`). The queue is then
 * "direct" until `leaveDirect()`: what is left on a tick plays at once, at
 * normal speed, and an empty queue is not a gap (no cushion to grow).
 */
import { FRAME_SAMPLES } from '../sources/audio-source.js';

export type MarkEvent = 'playout' | 'cleared';

/** Options for `PlayoutQueue`. */
export interface PlayoutQueueOptions {
  /** Most samples waiting; audio beyond it is dropped (and counted). Default 30 s at 8 kHz. */
  capacitySamples?: number;
  /** Smallest (and first) playout cushion. Default 160 (20 ms). */
  minCushionSamples?: number;
  /** Largest cushion the measured jitter may grow it to. Default 1600 (200 ms). */
  maxCushionSamples?: number;
  /** …or start after this many ticks with audio waiting. Default 3 (60 ms). */
  maxHoldTicks?: number;
  /** Most marks waiting; further marks are answered 'cleared' at once. Default 1000. */
  maxMarks?: number;
  /** Called when a mark is played out or cleared. */
  onMark: (name: string, event: MarkEvent) => void;
  /** Called when the audio before a `done()` position has been played. */
  onPlayDone?: (id: string | undefined) => void;
}

interface Position {
  kind: 'mark' | 'done';
  name: string | undefined;
  /** Total samples pushed when it was placed. */
  position: number;
}

/** Ticks per measuring window (500 ms). */
const WINDOW_TICKS = 25;
/** Ticks without a gap before the cushion shrinks a step (10 s). */
const CALM_TICKS = 500;
/** Audio arriving this many ticks after the queue ran dry means a gap, later means a pause. */
const GAP_TICKS = 3;
/** Largest playback speed change per frame, in samples (5 %). */
const MAX_STRETCH = 8;
/** How far above the cushion the queue's low point is held, in samples (2.5 ms). */
const FLOOR_MARGIN = 20;
/** Windows the sender's pace is judged over (2 s). */
const PACE_WINDOWS = 4;
/** Windows running the queue must stay above the cushion before its excess is dropped (1 s). */
const EXCESS_WINDOWS = 2;

export class PlayoutQueue {
  readonly #capacity: number;
  readonly #minCushion: number;
  readonly #maxCushion: number;
  readonly #maxHoldTicks: number;
  readonly #maxMarks: number;
  readonly #onMark: (name: string, event: MarkEvent) => void;
  readonly #onPlayDone: (id: string | undefined) => void;
  /** Allocated on first push, so listen-only streams hold no playback memory. */
  #ring: Int16Array | undefined;
  #read = 0;
  #size = 0;
  /** Samples ever pushed (accepted) and ever played or dropped: positions compare against these. */
  #pushedTotal = 0;
  #playedTotal = 0;
  #positions: Position[] = [];
  #playing = false;
  #heldTicks = 0;
  #cushion: number;
  #ticks = 0;
  /** Tick at which a playing queue ran dry (-1: not waiting to tell a gap from a pause). */
  #emptiedAt = -1;
  #lastGapTick = 0;
  /** The queue's lowest point before a tick since the last gap or cushion change. */
  #calmMin = Number.MAX_SAFE_INTEGER;
  /** The queue's low point before a tick: follows it down at once, up slowly. */
  #floor = 0;
  /** Learned speed offset of the sender, samples per frame. */
  #drift = 0;
  #windowStart = 0;
  #windowMinDepth = Number.MAX_SAFE_INTEGER;
  #windowPushed = 0;
  #windowPlayed = 0;
  #realTime = false;
  /** Pushed and played samples of the last PACE_WINDOWS windows (a ring). */
  readonly #pacePushed = new Float64Array(PACE_WINDOWS);
  readonly #pacePlayed = new Float64Array(PACE_WINDOWS);
  #paceIndex = 0;
  /** Windows running in which the queue stayed more than a frame above the cushion. */
  #excessWindows = 0;
  /** The last frame went out on arrival (`commitNow`), not on the tick. */
  #direct = false;
  /** Samples refused because the queue was full. */
  overflowed = 0;
  /** Samples dropped as stale delay after a stall. */
  trimmed = 0;

  constructor(options: PlayoutQueueOptions) {
    this.#capacity = options.capacitySamples ?? 8000 * 30;
    this.#minCushion = options.minCushionSamples ?? FRAME_SAMPLES;
    this.#maxCushion = Math.max(this.#minCushion, options.maxCushionSamples ?? 1600);
    this.#cushion = this.#minCushion;
    this.#maxHoldTicks = options.maxHoldTicks ?? 3;
    this.#maxMarks = options.maxMarks ?? 1000;
    this.#onMark = options.onMark;
    this.#onPlayDone = options.onPlayDone ?? (() => {});
  }

  /** Samples waiting to be played. */
  get size(): number {
    return this.#size;
  }

  /** True while frames go out on arrival (since `commitNow`, until `leaveDirect` or `clear`). */
  get direct(): boolean {
    return this.#direct;
  }

  /** The current playout cushion, in samples. */
  get cushion(): number {
    return this.#cushion;
  }

  get pendingMarks(): number {
    return this.#positions.reduce((n, p) => n + (p.kind === 'mark' ? 1 : 0), 0);
  }

  /** Queue 8 kHz PCM (copied). What does not fit is dropped: playback memory stays bounded. */
  push(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    if (!this.#playing && !this.#direct && this.#emptiedAt >= 0) {
      // Audio again soon after running dry: the sender's jitter beat the cushion.
      if (this.#ticks - this.#emptiedAt <= GAP_TICKS) this.#grow();
      this.#emptiedAt = -1;
    }
    this.#ring ??= new Int16Array(this.#capacity);
    const ring = this.#ring;
    const cap = ring.length;
    const n = Math.min(pcm.length, cap - this.#size);
    this.overflowed += pcm.length - n;
    let write = (this.#read + this.#size) % cap;
    let offset = 0;
    while (offset < n) {
      const chunk = Math.min(n - offset, cap - write);
      ring.set(pcm.subarray(offset, offset + chunk), write);
      offset += chunk;
      write = (write + chunk) % cap;
    }
    this.#size += n;
    this.#pushedTotal += n;
    this.#windowPushed += n;
  }

  /** Place a mark after everything queued so far; with nothing queued it is played out at once. */
  mark(name: string): void {
    if (this.#pushedTotal <= this.#playedTotal) {
      this.#onMark(name, 'playout');
      return;
    }
    if (this.#positions.length >= this.#maxMarks) {
      this.#onMark(name, 'cleared');
      return;
    }
    this.#positions.push({ kind: 'mark', name, position: this.#pushedTotal });
  }

  /** Report `onPlayDone(id)` once everything queued so far has been played (at once if nothing is). */
  done(id: string | undefined): void {
    if (this.#pushedTotal <= this.#playedTotal) this.#onPlayDone(id);
    else this.#positions.push({ kind: 'done', name: id, position: this.#pushedTotal });
  }

  /** Answer every pending mark 'cleared'; the audio plays on (jambonz `clearMarks`). */
  clearMarks(): void {
    const cleared = this.#positions.filter((p) => p.kind === 'mark');
    this.#positions = this.#positions.filter((p) => p.kind !== 'mark');
    for (const m of cleared) this.#onMark(m.name ?? '', 'cleared');
  }

  /** Drop everything queued (barge-in): pending marks are reported 'cleared', clips' playDone never comes. */
  clear(): void {
    this.#read = 0;
    this.#size = 0;
    this.#playedTotal = this.#pushedTotal;
    this.#playing = false;
    this.#direct = false;
    this.#heldTicks = 0;
    this.#emptiedAt = -1;
    const positions = this.#positions;
    this.#positions = [];
    for (const p of positions) if (p.kind === 'mark') this.#onMark(p.name ?? '', 'cleared');
  }

  /**
   * Off the tick: copy the next whole frame into `out` (FRAME_SAMPLES long)
   * without consuming it, to be sent now; false when less than a frame is
   * queued. `commitNow()` once it was sent. Allocates nothing.
   */
  frameNow(out: Int16Array): boolean {
    const ring = this.#ring;
    if (!ring || this.#size < FRAME_SAMPLES) return false;
    copyFromRing(ring, this.#read, out, FRAME_SAMPLES);
    return true;
  }

  /** The frame from `frameNow()` was sent: consume it (marks due are answered) and stay direct. */
  commitNow(): void {
    this.#direct = true;
    this.#emptiedAt = -1;
    this.commit(FRAME_SAMPLES);
  }

  /** Frames go on the tick again, with the cushion (the talk-spurt ended, or something else plays on the leg). */
  leaveDirect(): void {
    if (!this.#direct) return;
    this.#direct = false;
    this.#playing = false;
    this.#heldTicks = 0;
    this.#emptiedAt = -1;
  }

  /** A tick on which nothing is taken from the queue (its frame went on arrival, or none is due): keeps the clocks. */
  idleTick(): void {
    this.#ticks++;
    this.#measure();
    if (this.#size === 0) this.#playing = false;
  }

  /**
   * On the tick: write the next frame to play into `out` (zero-padded)
   * without consuming it; returns the queued samples it stands for (0:
   * nothing to play yet; 152–168 while the speed is adjusted). Call
   * `commit(n)` once the frame was actually played. Allocates nothing.
   */
  peek(out: Int16Array): number {
    this.#ticks++;
    this.#measure();
    if (this.#size === 0) {
      if (this.#playing) this.#emptiedAt = this.#ticks;
      this.#playing = false;
      this.#heldTicks = 0;
      return 0;
    }
    if (!this.#playing) {
      // Direct: frames already go out as they come; what waits plays now, with no cushion.
      if (!this.#direct && this.#size < this.#cushion && ++this.#heldTicks < this.#maxHoldTicks) return 0;
      this.#playing = true;
      this.#heldTicks = 0;
      this.#floor = this.#size;
    }
    const ring = this.#ring;
    if (!ring) return 0;
    if (this.#size < this.#windowMinDepth) this.#windowMinDepth = this.#size;
    if (this.#size < this.#calmMin) this.#calmMin = this.#size;
    const frame = out.length;
    const stretched = frame + (this.#direct ? 0 : this.#stretch());
    const want = this.#size >= stretched ? stretched : Math.min(frame, this.#size);
    const cap = ring.length;
    const r0 = this.#read;
    if (want === frame || want < frame && want === this.#size) {
      copyFromRing(ring, r0, out, want);
      if (want < frame) {
        out.fill(0, want);
        // Ran short mid-play: if more comes within a few ticks, that was a gap (see push).
        this.#emptiedAt = this.#ticks;
        this.#playing = false;
      }
      return want;
    }
    // `want` queued samples played in one frame: linear interpolation (a few percent faster or slower).
    const step = want / frame;
    for (let i = 0; i < frame; i++) {
      const pos = i * step;
      const k = Math.floor(pos);
      const a = ring[(r0 + k) % cap] ?? 0;
      const b = k + 1 < this.#size ? (ring[(r0 + k + 1) % cap] ?? 0) : a;
      out[i] = Math.round(a + (b - a) * (pos - k));
    }
    return want;
  }

  /** `n` samples handed out by `peek` were played: advance, and report positions now due. */
  commit(n: number): void {
    if (!this.#ring || n <= 0) return;
    const done = Math.min(n, this.#size);
    this.#advance(done);
    this.#windowPlayed += done;
  }

  #advance(n: number): void {
    const ring = this.#ring;
    if (!ring) return;
    this.#read = (this.#read + n) % ring.length;
    this.#size -= n;
    this.#playedTotal += n;
    while (this.#positions.length > 0) {
      const p = this.#positions[0];
      if (!p || p.position > this.#playedTotal) break;
      this.#positions.shift();
      if (p.kind === 'mark') this.#onMark(p.name ?? '', 'playout');
      else this.#onPlayDone(p.name);
    }
  }

  /**
   * Samples more (or fewer) than a frame to play this tick, to hold a
   * real-time sender's queue just above the cushion at its lowest: a
   * proportional term on the tracked low point of the queue, plus an
   * integral that learns how much faster or slower than real time the
   * sender runs (3 % slow: about −5 samples a frame).
   */
  #stretch(): number {
    const d = this.#size;
    this.#floor = d < this.#floor ? d : this.#floor + (d - this.#floor) / 64;
    if (!this.#realTime) return 0;
    const error = this.#floor - (this.#cushion + FLOOR_MARGIN);
    this.#drift = clamp(this.#drift + error / 4000, MAX_STRETCH);
    return clamp(Math.round(this.#drift + error / 32), MAX_STRETCH);
  }

  #grow(): void {
    this.#cushion = Math.min(this.#maxCushion, this.#cushion + FRAME_SAMPLES / 2);
    this.#lastGapTick = this.#ticks;
    this.#calmMin = Number.MAX_SAFE_INTEGER;
  }

  /** Every tick: close a measuring window when due; shrink the cushion after a calm spell. */
  #measure(): void {
    if (this.#ticks - this.#lastGapTick >= CALM_TICKS) {
      // Shrink only by what the queue never needed: its lowest point before a tick, less a frame.
      const spare = this.#calmMin - FRAME_SAMPLES - FLOOR_MARGIN;
      if (spare > 0) this.#cushion = Math.max(this.#minCushion, this.#cushion - Math.min(spare, FRAME_SAMPLES / 4));
      this.#lastGapTick = this.#ticks;
      this.#calmMin = Number.MAX_SAFE_INTEGER;
    }
    if (this.#ticks - this.#windowStart < WINDOW_TICKS) return;
    this.#pacePushed[this.#paceIndex] = this.#windowPushed;
    this.#pacePlayed[this.#paceIndex] = this.#windowPlayed;
    this.#paceIndex = (this.#paceIndex + 1) % PACE_WINDOWS;
    let pushed = 0;
    let played = 0;
    for (let i = 0; i < PACE_WINDOWS; i++) {
      pushed += this.#pacePushed[i] ?? 0;
      played += this.#pacePlayed[i] ?? 0;
    }
    this.#realTime = played > 0 && pushed >= played * 0.8 && pushed <= played * 1.25;
    const excess = this.#windowMinDepth === Number.MAX_SAFE_INTEGER ? 0 : this.#windowMinDepth - this.#cushion - FRAME_SAMPLES;
    // Less than half a frame is left to the speed adjustment.
    this.#excessWindows = this.#realTime && this.#playing && excess >= FRAME_SAMPLES / 2 ? this.#excessWindows + 1 : 0;
    if (this.#excessWindows >= EXCESS_WINDOWS) {
      // Stale delay left by a stall: drop it now rather than carry it for the rest of the call.
      this.trimmed += excess;
      this.#advance(excess);
      this.#floor = this.#size;
      this.#excessWindows = 0;
    }
    this.#windowStart = this.#ticks;
    this.#windowMinDepth = Number.MAX_SAFE_INTEGER;
    this.#windowPushed = 0;
    this.#windowPlayed = 0;
  }
}

function clamp(v: number, limit: number): number {
  return v > limit ? limit : v < -limit ? -limit : v;
}

/**
 * Copies `count` samples of the ring from index `from` (wrapping) into `out`.
 * An index loop rather than subarray(): a view object per frame is an
 * allocation on the tick.
 */
function copyFromRing(ring: Int16Array, from: number, out: Int16Array, count: number): void {
  const cap = ring.length;
  let r = from;
  for (let i = 0; i < count; i++) {
    out[i] = ring[r] ?? 0;
    r = r + 1 === cap ? 0 : r + 1;
  }
}
