/**
 * Conference mixing cost per participant. Run: `npx vitest bench --run bench/conference-mix.bench.ts`.
 *
 * 500 participants joined through `ConferenceManager`, as 100 rooms × 5 and
 * as 20 rooms × 25; each participant's call leg is fed over real RTP
 * (127.0.0.1) by a "phone" endpoint speaking a tone. Phones and legs run on
 * two hand-driven media clocks so the legs' tick (jitter buffer, decode,
 * mix, encode, send) can be timed alone; between ticks the event loop
 * delivers the UDP packets.
 *
 * Printed per scenario:
 *  - leg tick per participant-frame: the legs' whole clock tick / (ticks × participants);
 *  - mix phase per participant-frame: the mixers alone (sum, subtract own, clip);
 *  - process CPU per participant-frame: all CPU of the run (phones, UDP
 *    receive, legs) / (ticks × participants), an upper bound that includes the far ends.
 * The same figure for 5- and 25-person rooms is the point: mixing is O(N) per room.
 */
import { setImmediate as nextLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { bench, describe } from 'vitest';
import { ConferenceManager } from '../src/conference/index.js';
import { MediaClock } from '../src/media/media-clock.js';
import { MediaEngine } from '../src/media/engine.js';
import type { MediaEndpoint } from '../src/media/endpoint.js';
import { ToneSource } from '../src/media/sources/tones.js';

class Scenario {
  readonly label: string;
  readonly participants: number;
  readonly #legClock = new MediaClock({ autoStart: false });
  readonly #phoneClock = new MediaClock({ autoStart: false });
  readonly #legsEngine: MediaEngine;
  readonly #phonesEngine: MediaEngine;
  readonly #conferences: ConferenceManager;
  readonly #legs: MediaEndpoint[] = [];
  #ticks = 0;
  #tickMs = 0;
  #mixMs = 0;
  #mixStartedAt = 0;
  #active = 0;
  #cpu: NodeJS.CpuUsage | undefined;

  private constructor(readonly rooms: number, readonly perRoom: number, portBase: number) {
    this.label = `${rooms} rooms × ${perRoom}`;
    this.participants = rooms * perRoom;
    this.#legsEngine = new MediaEngine({ clock: this.#legClock, portMin: portBase, portMax: portBase + 1499, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
    this.#phonesEngine = new MediaEngine({ clock: this.#phoneClock, portMin: portBase + 1500, portMax: portBase + 2999, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
    this.#conferences = new ConferenceManager({ media: this.#legsEngine, onEvent: () => undefined });
    // Handlers of a phase run in subscription order: this one before every mixer, the next after.
    this.#legClock.add('mix', () => {
      this.#mixStartedAt = performance.now();
    });
  }

  static async build(rooms: number, perRoom: number, portBase: number): Promise<Scenario> {
    const s = new Scenario(rooms, perRoom, portBase);
    for (let r = 0; r < rooms; r++) {
      for (let p = 0; p < perRoom; p++) {
        const phone = await s.#phonesEngine.createEndpoint();
        const leg = await s.#legsEngine.createEndpoint();
        phone.setRemote({ address: '127.0.0.1', port: leg.session.port, payloadType: 0, telephoneEvent: 101 });
        leg.setRemote({ address: '127.0.0.1', port: phone.session.port, payloadType: 0, telephoneEvent: 101 });
        void phone.play(new ToneSource([{ freqs: [300 + (p % 10) * 170], ms: 3_600_000 }], { amplitude: 3000 }));
        void s.#conferences.join({ workspaceId: 'ws_bench', name: `room-${r}`, callId: `call-${r}-${p}`, caller: '+254700000000', endpoint: leg, beep: false });
        s.#legs.push(leg);
      }
    }
    s.#legClock.add('mix', () => {
      s.#mixMs += performance.now() - s.#mixStartedAt;
    });
    // Fill the jitter buffers before measuring.
    for (let i = 0; i < 50; i++) await s.tick();
    s.reset();
    return s;
  }

  async tick(): Promise<void> {
    this.#cpu ??= process.cpuUsage();
    this.#phoneClock.runTick();
    // Two turns of the event loop: the phones' packets go out and the legs' sockets read them.
    await nextLoop();
    await nextLoop();
    const t0 = performance.now();
    this.#legClock.runTick();
    this.#tickMs += performance.now() - t0;
    this.#ticks++;
    for (const leg of this.#legs) if (leg.inboundActive) this.#active++;
  }

  reset(): void {
    this.#ticks = 0;
    this.#tickMs = 0;
    this.#mixMs = 0;
    this.#active = 0;
    this.#cpu = undefined;
  }

  report(): string {
    const frames = this.#ticks * this.participants;
    const cpu = this.#cpu ? process.cpuUsage(this.#cpu) : { user: 0, system: 0 };
    const us = (ms: number): string => ((ms * 1000) / frames).toFixed(2);
    return (
      `${this.label}: ${this.#ticks} ticks; leg tick ${(this.#tickMs / this.#ticks).toFixed(2)} ms = ${us(this.#tickMs)} µs/participant-frame; ` +
      `mix phase ${us(this.#mixMs)} µs/participant-frame; process CPU ${us((cpu.user + cpu.system) / 1000)} µs/participant-frame; ` +
      `${((100 * this.#active) / frames).toFixed(1)} % of frames carried received audio`
    );
  }

  async close(): Promise<void> {
    await this.#conferences.close();
    await Promise.all([this.#legsEngine.close(), this.#phonesEngine.close()]);
  }
}

const scenarios = [await Scenario.build(100, 5, 37000), await Scenario.build(20, 25, 40000)];

describe('conference mixing', () => {
  for (const scenario of scenarios) {
    bench(`${scenario.label} participants: one 20 ms tick (phones, UDP, legs)`, () => scenario.tick(), {
      time: 4000,
      teardown: (_task, mode) => {
        if (mode === 'warmup') {
          scenario.reset();
          return;
        }
        console.log(`\nconference mixing, ${scenario.report()}`);
        void scenario.close();
      },
    });
  }
});
