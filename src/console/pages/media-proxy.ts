import type { ConsoleRoutes } from '../console-routes.js';
import { ConsoleApi } from '../console-api.js';

/**
 * Audio through the console session: the browser's `<audio>` cannot send
 * the API key, so the console fetches the WAV from the API with the
 * session's key and passes it on.
 */
export function registerMediaProxy(routes: ConsoleRoutes, path: string, apiPath: (params: Record<string, string>) => string): void {
  routes.app.get(path, async (request, reply) => {
    const session = routes.session(request);
    if (!session) return reply.status(401).send();
    const api = new ConsoleApi(routes.app, session.key);
    const answer = await api.request('GET', apiPath(request.params as Record<string, string>));
    if (answer.status !== 200) return reply.status(answer.status === 401 ? 401 : 404).type('text/plain').send('no audio');
    return reply.type(answer.contentType || 'audio/wav').header('cache-control', 'private, no-store').send(answer.payload);
  });
}
