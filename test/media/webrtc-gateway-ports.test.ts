/**
 * Where a browser leg's WebRTC media listens (`--webrtc-ports`) and which
 * address its ICE candidate and SDP carry (`--external-address` for a
 * browser outside the local networks, the local address otherwise), against
 * a werift peer connection standing in for the browser over loopback.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { MediaEngine } from '../../src/media/engine.js';
import { WebRtcGateway } from '../../src/media/webrtc/webrtc-gateway.js';
import { AdvertisedHost } from '../../src/shared/advertised-host.js';
import { silentLogger } from '../../src/shared/log.js';
import { until } from '../helpers/until.js';

/** Ports of this file only (other suites run beside it). */
const RANGE: [number, number] = [34_100, 34_119];
const SILENT_OPUS = Buffer.from([0xf8, 0xff, 0xfe]);

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A werift "browser" on loopback with its offer made. */
async function browserOffer(): Promise<RTCPeerConnection> {
  const browser = new RTCPeerConnection({
    iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
  });
  closers.push(() => browser.close());
  browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  await browser.setLocalDescription(await browser.createOffer());
  return browser;
}

async function gateway(advertisedAddress: string, icePortRange: [number, number]): Promise<WebRtcGateway> {
  const made = await WebRtcGateway.open({ advertisedAddress, icePortRange, logger: silentLogger });
  closers.push(() => made.close());
  return made;
}

/** The candidates' address and port, and the c=/o= addresses, of an SDP. */
function addressesOf(sdp: string): { candidates: Array<{ address: string; port: number }>; c: string[]; o: string[] } {
  const lines = sdp.split('\r\n');
  return {
    candidates: lines.filter((l) => l.startsWith('a=candidate:')).map((l) => ({ address: l.split(' ')[4]!, port: Number(l.split(' ')[5]) })),
    c: lines.filter((l) => l.startsWith('c=')).map((l) => l.split(' ')[2]!),
    o: lines.filter((l) => l.startsWith('o=')).map((l) => l.split(' ')[5]!),
  };
}

function inRange(port: number): boolean {
  return port >= RANGE[0] && port <= RANGE[1];
}

describe('WebRTC gateway ports and advertised address', () => {
  it('gives a browser outside the local networks one candidate on --external-address, on a port of the range', async () => {
    // The choice a browser at a public address gets (SPEC §13), as CallLeg asks it of the user agent.
    const advertised = new AdvertisedHost({ bind: '127.0.0.1', external: '203.0.113.7' });
    const address = advertised.mediaForPeer('198.51.100.20');
    const browser = await browserOffer();
    const answer = await (await gateway(address, RANGE)).answer(browser.localDescription!.sdp);
    const seen = addressesOf(answer);
    expect(seen.candidates).toHaveLength(1);
    expect(seen.candidates[0]!.address).toBe('203.0.113.7');
    expect(inRange(seen.candidates[0]!.port)).toBe(true);
    expect(seen).toMatchObject({ c: ['203.0.113.7'], o: ['203.0.113.7'] });
    expect(answer).toContain(`m=audio ${seen.candidates[0]!.port} `);
  });

  it('gives a loopback browser the local address, and media flows over the range port', async () => {
    const advertised = new AdvertisedHost({ bind: '127.0.0.1', external: '203.0.113.7' });
    const address = advertised.mediaForPeer('127.0.0.1');
    expect(address).toBe('127.0.0.1');
    const engine = new MediaEngine({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portMin: 34_140, portMax: 34_159 });
    closers.push(() => engine.close());
    const media = await engine.createEndpoint();
    closers.push(() => media.close());
    const browser = await browserOffer();
    const sender = browser.getTransceivers()[0]!.sender;
    const gw = await gateway(address, RANGE);
    const answer = await gw.answer(browser.localDescription!.sdp);
    media.setRemote(gw.relayRemote);
    gw.connect(media.localDescription().port);
    const seen = addressesOf(answer);
    expect(seen.candidates.map((c) => c.address)).toEqual(['127.0.0.1']);
    expect(seen).toMatchObject({ c: ['127.0.0.1'], o: ['127.0.0.1'] });
    expect(inRange(seen.candidates[0]!.port)).toBe(true);
    await browser.setRemoteDescription({ type: 'answer', sdp: answer });
    let sequence = 0;
    await until(async () => {
      sender.track!.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: sequence, timestamp: sequence * 960 }), SILENT_OPUS));
      sequence += 1;
      return browser.connectionState === 'connected' && gw.counters.fromBrowser > 0;
    }, 8_000, 20);
    // The pair the browser's media took ends on our candidate: the port of the range.
    const pair = browser.iceTransports[0]!.connection.nominated;
    expect(pair?.remoteCandidate.port).toBe(seen.candidates[0]!.port);
  });

  it('refuses with a clear error when every port of the range is taken', async () => {
    const small: [number, number] = [34_180, 34_183];
    const taken: Socket[] = [];
    for (let port = small[0]; port <= small[1]; port++) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(port, resolve));
      taken.push(socket);
    }
    closers.push(() => taken.forEach((s) => s.close()));
    const browser = await browserOffer();
    const gw = await gateway('127.0.0.1', small);
    await expect(gw.answer(browser.localDescription!.sdp)).rejects.toThrow('no free WebRTC port in 34180-34183 (--webrtc-ports)');
    const caller = await gateway('127.0.0.1', small);
    await expect(caller.offer()).rejects.toThrow('no free WebRTC port in 34180-34183 (--webrtc-ports)');
  });
});
