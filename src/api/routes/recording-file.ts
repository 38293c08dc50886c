import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { LiveCallRouter } from '../live/live-call-router.js';
import type { RecordingRecord } from '../../store/repos/recording-repo.js';

/**
 * Streams a recording's WAV file. One made on another node is fetched from
 * that node (SPEC §16: decided by the store, as for live calls); when that
 * node does not answer, a copy on this node's disk (shared storage) is used.
 * A file missing on disk is a 404, not a crash.
 */
export async function sendRecordingFile(reply: FastifyReply, recording: RecordingRecord, liveCalls: LiveCallRouter): Promise<FastifyReply> {
  const headers = (size: number) => reply.type('audio/wav').header('Content-Length', size).header('Content-Disposition', `attachment; filename="${recording.id}.wav"`);
  const remote = await liveCalls.remoteRecording(recording);
  if (remote) return headers(remote.length).send(remote);
  let size: number;
  try {
    size = (await stat(recording.path)).size;
  } catch {
    throw new AppError('not_found', `the audio of recording ${recording.id} is no longer stored`);
  }
  return headers(size).send(createReadStream(recording.path));
}
