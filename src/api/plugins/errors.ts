import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorCode } from '../../shared/errors.js';

/** Fastify's own error codes and what the client is told for each. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
};

/** Every error leaves as the JSON of SPEC §3: `{"error":{"code","message","field"?}}`. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else if ('code' in error && typeof error.code === 'string' && fastifyCodes[error.code]) {
      const code = fastifyCodes[error.code]!;
      const message = code === 'invalid_json' ? `the request body is not valid JSON: ${error.message}` : error.message;
      appError = new AppError(code, message, code === 'invalid_json' ? 'body' : undefined);
    } else if (error instanceof SyntaxError && 'statusCode' in error && error.statusCode === 400) {
      appError = new AppError('invalid_json', `the request body is not valid JSON: ${error.message}`, 'body');
    } else {
      request.log.error({ err: error }, 'unhandled error');
      appError = new AppError('internal_error', 'an unexpected error occurred; it has been logged');
    }
    void reply.status(appError.status).type('application/json').send(appError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new AppError('route_not_found', `no endpoint ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(error.status).send(error.toJSON());
  });
}
