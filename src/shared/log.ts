import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The root structured logger. Children carry context such as `{callId}` on every line. */
export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'sautikit' } }, destination ?? process.stdout);
}

/** A logger that writes nothing; for tests and library use without a host logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
