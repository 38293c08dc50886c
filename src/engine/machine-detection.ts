/**
 * Answering machine detection on an answered outbound call (SPEC §17): the
 * leg's media listens (the detector runs where the media runs), and the
 * decision goes on the record (`answered_by`), into the call's voice
 * callbacks (`AnsweredBy`) and, with what was measured, on its timeline.
 */
import type { AnsweredBy, MachineDetectionMode } from '../shared/answered-by.js';
import type { CallSession } from './call-session.js';

export async function detectAnsweringMachine(session: CallSession, options: { mode: MachineDetectionMode; timeoutSeconds: number }): Promise<AnsweredBy> {
  session.note('machine_detection', { event: 'started', mode: options.mode, timeout_seconds: options.timeoutSeconds });
  const result = await session.leg.media.detectMachine({ mode: options.mode, timeoutMs: options.timeoutSeconds * 1000 });
  session.note('machine_detection', {
    event: 'decided', answered_by: result.answeredBy, reason: result.reason, decided_after_ms: result.decidedAfterMs,
    initial_silence_ms: result.initialSilenceMs, greeting_ms: result.greetingMs, words: result.words, noise_floor_dbfs: result.noiseFloorDb,
    ...(result.machineAfterMs !== undefined ? { machine_after_ms: result.machineAfterMs } : {}),
    ...(result.beepHz !== undefined ? { beep_hz: result.beepHz, beep_ms: result.beepMs } : {}),
    ...(result.toneHz !== undefined ? { tone_hz: result.toneHz } : {}),
  });
  session.log.info({ answeredBy: result.answeredBy, reason: result.reason, decidedAfterMs: result.decidedAfterMs }, 'answering machine detection decided');
  await session.setAnsweredBy(result.answeredBy);
  return result.answeredBy;
}
