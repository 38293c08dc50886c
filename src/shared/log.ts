import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The root structured logger. Children carry context such as `{callId}` on every line. */
export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'sautikit' } }, destination ?? process.stdout);
}

/**
 * A child of `parent` that binds only what `parent` does not already bind to
 * the same value. pino appends a child's bindings to its parent's, so a key
 * bound again (a component handing its logger to a part that names the same
 * component) is written twice on every line. A key bound to another value
 * is a mistake of the caller: give that part a logger without the key.
 */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  const bound = parent.bindings();
  const fresh = Object.fromEntries(Object.entries(bindings).filter(([key, value]) => value !== undefined && bound[key] !== value));
  return Object.keys(fresh).length === 0 ? parent : parent.child(fresh);
}

/** A logger that writes nothing; for tests and library use without a host logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
