import type { Mixer, MixerLeg } from './mixer.js';
import { WavRecorder, type RecordingInfo } from './recorder.js';

/**
 * A conference room's mix into a WAV file at `path`, tapped at the mix
 * phase, until `signal` aborts or the mixer closes. Used by rooms in process
 * and on a media shard alike.
 */
export async function recordMixer<L extends MixerLeg>(mixer: Mixer<L>, path: string, signal: AbortSignal): Promise<RecordingInfo> {
  const recorder = await WavRecorder.open({ path });
  // The room may have ended while the file was being created: close it at once.
  if (!signal.aborted) {
    const untap = mixer.fork((frame) => recorder.write(frame));
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      mixer.once('closed', () => resolve());
    });
    untap();
  }
  return recorder.close();
}
