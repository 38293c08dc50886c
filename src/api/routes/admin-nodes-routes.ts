import type { FastifyInstance } from 'fastify';
import { nodeDeadAfterMs } from '../../engine/dead-node-reaper.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { NodeRecord } from '../../store/repos/node-repo.js';
import type { ApiContext } from '../api-context.js';
import { params, type IdParams } from '../route-schemas.js';

/** A node as the API shows it: `alive` while its last heartbeat is under 15 s old (SPEC §16). */
function nodeView(node: NodeRecord, now: Date): Record<string, unknown> {
  return {
    id: node.id, sip_address: node.sipAddress, http_url: node.httpUrl, state: node.state, live_calls: node.liveCalls,
    started_at: node.startedAt, last_heartbeat_at: node.heartbeatAt, alive: now.getTime() - Date.parse(node.heartbeatAt) < nodeDeadAfterMs,
  };
}

/**
 * The platform's nodes (SPEC §16): any node's API lists them all and drains
 * any of them. A drain is a state written in the node's row; the node sees it
 * at its next heartbeat (within 5 s) and drains as on SIGTERM.
 */
export function registerAdminNodeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/admin/nodes', async () => {
    const now = ctx.clock.now();
    return (await ctx.store.nodes.list()).map((node) => nodeView(node, now));
  });

  app.post<{ Params: IdParams }>('/v1/admin/nodes/:id/drain', { schema: { params: params.node } }, async (request, reply) => {
    const node = await ctx.store.nodes.requestDrain(request.params.id);
    if (!node) throw new AppError('not_found', `no node '${quoteInput(request.params.id)}'`);
    return reply.status(202).send(nodeView(node, ctx.clock.now()));
  });
}
