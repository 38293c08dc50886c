import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { RecordingRecord } from '../../store/repos/recording-repo.js';

/** Streams a recording's WAV file; a file missing on disk is a 404, not a crash. */
export async function sendRecordingFile(reply: FastifyReply, recording: RecordingRecord): Promise<FastifyReply> {
  let size: number;
  try {
    size = (await stat(recording.path)).size;
  } catch {
    throw new AppError('not_found', `the audio of recording ${recording.id} is no longer stored`);
  }
  return reply.type('audio/wav').header('Content-Length', size)
    .header('Content-Disposition', `attachment; filename="${recording.id}.wav"`).send(createReadStream(recording.path));
}
