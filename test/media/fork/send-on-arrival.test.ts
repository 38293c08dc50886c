import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaClock } from '../../../src/media/media-clock.js';
import { MediaEngine } from '../../../src/media/engine.js';
import type { MediaEndpoint } from '../../../src/media/endpoint.js';
import { DownlinkPlayer } from '../../../src/media/fork/downlink-player.js';
import { PcmSource } from '../../../src/media/sources/audio-source.js';
import { silentLogger } from '../../../src/shared/log.js';
import { sine } from '../helpers.js';

/**
 * Socket → caller on arrival (SPEC §19): a stream's frame goes out the
 * moment it comes, not on the next tick. The clock is driven by hand (no
 * tick runs unless the test calls runTick), and the "phone" is a raw UDP
 * socket, so every packet's header is seen exactly as sent.
 */

interface Packet {
  marker: boolean;
  seq: number;
  ts: number;
  /** PCMU payload: 0xff / 0x7f bytes are silence. */
  silent: boolean;
}

let clock: MediaClock;
let engine: MediaEngine;
let phone: dgram.Socket;
const packets: Packet[] = [];

beforeAll(async () => {
  clock = new MediaClock({ autoStart: false });
  engine = new MediaEngine({ clock, portMin: 49300, portMax: 49349, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  phone = dgram.createSocket('udp4');
  phone.on('message', (msg: Buffer) => {
    if (msg.length < 12 || (msg[1]! & 0x7f) !== 0) return; // RTCP or anything but PCMU
    let silent = true;
    for (let i = 12; i < msg.length; i++) if (msg[i] !== 0xff && msg[i] !== 0x7f) silent = false;
    packets.push({ marker: (msg[1]! & 0x80) !== 0, seq: msg.readUInt16BE(2), ts: msg.readUInt32BE(4), silent });
  });
  phone.bind(0, '127.0.0.1');
  await once(phone, 'listening');
});

afterAll(async () => {
  phone.close();
  await engine.close();
});

afterEach(() => {
  packets.length = 0;
});

/** The loopback round trip: wait until `n` packets have come in all. */
async function received(n: number): Promise<void> {
  for (let i = 0; i < 200 && packets.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(packets.length).toBe(n);
}

/** Give packets that should not come the time to come anyway. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

/** A leg sending PCMU to the raw phone, with a player wired to its tick as the audio stream wires it. */
async function playerLeg(): Promise<{ ep: MediaEndpoint; player: DownlinkPlayer; marks: string[]; heard: () => number }> {
  const ep = await engine.createEndpoint();
  ep.setRemote({ address: '127.0.0.1', port: (phone.address()).port, payloadType: 0, telephoneEvent: null });
  const marks: string[] = [];
  const player = new DownlinkPlayer(ep, { rate: 8000, logger: silentLogger, onMark: (name, event) => marks.push(`${name}:${event}`), onPlayDone: () => {} });
  let loud = 0;
  ep.fork('both', (frame, track) => {
    if (track === 'inbound') return player.offer();
    player.confirm(frame);
    if (frame.some((v) => v > 2000)) loud++;
  });
  return { ep, player, marks, heard: () => loud };
}

const bytes = (pcm: Int16Array): Uint8Array => new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
const frameOf = (i: number): Uint8Array => bytes(sine(1000, 20, 8000).map((v) => (i % 2 === 0 ? v : -v)));

describe('socket → caller: sent on arrival', () => {
  it('sends the first frame of a talk-spurt at once (marker bit), and the tick it stood in for sends nothing', async () => {
    const { ep, player, heard } = await playerLeg();
    clock.runTick();
    clock.runTick();
    await received(2); // silence on the ticks
    expect(packets.every((p) => p.silent)).toBe(true);
    player.binary(frameOf(0));
    await received(3); // no tick ran: the frame went as it came
    const [, silence, first] = packets;
    expect(first).toMatchObject({ marker: true, silent: false, seq: (silence!.seq + 1) & 0xffff, ts: (silence!.ts + 160) >>> 0 });
    clock.runTick(); // this tick's packet already went
    await settle();
    expect(packets.length).toBe(3);
    expect(heard()).toBe(1); // taps and recorders still get the frame, on the tick it stood in for
    // The stream goes on: each frame as it comes, no marker, sequence and timestamp unbroken.
    player.binary(frameOf(1));
    await received(4);
    expect(packets[3]).toMatchObject({ marker: false, silent: false, seq: (first!.seq + 1) & 0xffff, ts: (first!.ts + 160) >>> 0 });
    clock.runTick();
    await ep.close();
  });

  it('a sender a little slow gets no silent packet: a tick without a frame sends nothing, for up to 60 ms', async () => {
    const { ep, player } = await playerLeg();
    clock.runTick();
    player.binary(frameOf(0));
    clock.runTick();
    // A tick comes before the next frame (the sender runs slow): no silence is sent in its place.
    clock.runTick();
    player.binary(frameOf(1));
    clock.runTick();
    await received(3);
    expect(packets.map((p) => p.silent)).toEqual([true, false, false]);
    expect(packets[2]!.ts).toBe((packets[1]!.ts + 160) >>> 0); // the stream's pace, as through a relay
    // The talk-spurt ends: three ticks hold, then silence on the tick again, its timestamp counting the held ticks.
    for (let i = 0; i < 4; i++) clock.runTick();
    await received(4);
    expect(packets[3]).toMatchObject({ silent: true, marker: false, ts: (packets[2]!.ts + 4 * 160) >>> 0 });
    // The next frame starts a new talk-spurt.
    player.binary(frameOf(2));
    await received(5);
    expect(packets[4]).toMatchObject({ silent: false, marker: true, ts: (packets[3]!.ts + 160) >>> 0 });
    clock.runTick();
    await ep.close();
  });

  it('a burst goes two at once, then one a tick (real time), and marks wait for it', async () => {
    const { ep, player, marks, heard } = await playerLeg();
    player.binary(bytes(sine(1000, 200, 8000))); // 10 frames at once (a TTS clip)
    player.mark('end');
    await received(2);
    clock.runTick();
    clock.runTick(); // these two ticks stand in for the two sent
    await settle();
    expect(packets.length).toBe(2);
    for (let i = 0; i < 8; i++) {
      clock.runTick();
      await received(3 + i); // one a tick
    }
    expect(packets.every((p, i) => !p.silent && p.ts === (packets[0]!.ts + 160 * i) >>> 0)).toBe(true);
    expect(marks).toEqual(['end:playout']);
    expect(heard()).toBe(10); // taps got every frame, one a tick
    await ep.close();
  });

  it('frames bunched by the network leave no lasting delay: the backlog drains with the next arrival', async () => {
    const { ep, player } = await playerLeg();
    clock.runTick();
    for (let i = 0; i < 3; i++) player.binary(frameOf(i)); // three in one tick interval
    await received(3); // the tick's silence, then two at once; the third waits
    await settle();
    expect(packets.length).toBe(3);
    clock.runTick();
    clock.runTick(); // these two ticks stand in for the two sent
    await settle();
    expect(packets.length).toBe(3);
    player.binary(frameOf(3));
    await received(5); // the waiting frame and the new one go at once: nothing waits any more
    clock.runTick();
    player.binary(frameOf(4));
    await received(6); // the next goes as it arrives
    expect(packets.slice(1).every((p) => !p.silent)).toBe(true);
    clock.runTick();
    await ep.close();
  });

  it('leaves the leg on the tick while anything else is heard on it (a prompt, a bridge)', async () => {
    const { ep, player } = await playerLeg();
    const prompt = ep.play(new PcmSource(sine(500, 40, 8000)));
    player.binary(frameOf(0));
    await settle();
    expect(packets.length).toBe(0); // the prompt has the leg: the stream's frame waits for the tick
    for (let i = 0; i < 3; i++) clock.runTick();
    expect(await prompt).toBe('done');
    await received(3);
    expect(packets.map((p) => p.silent)).toEqual([false, false, false]); // prompt, prompt, then the stream's frame
    const other = await engine.createEndpoint();
    const bridge = ep.bridge(other);
    player.binary(frameOf(1));
    await settle();
    expect(packets.length).toBe(3); // bridged: on the tick, with the cushion, as before
    bridge.close();
    await Promise.all([ep.close(), other.close()]);
  });
});
