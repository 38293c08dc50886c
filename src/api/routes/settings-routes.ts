import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { isValidDestinationPattern } from '../../shared/destination-policy.js';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { parseAmountToCents } from '../../billing/rating.js';
import type { WorkspaceSettings } from '../../store/repos/settings-repo.js';
import type { ApiContext } from '../api-context.js';
import { pick } from '../body-schemas/body-schema.js';
import { settingsBody, type SettingsBody } from '../body-schemas/settings.js';
import { settingsView } from '../serializers.js';

const hostPattern = /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$|^\[?[0-9A-Fa-f:.]+\]?$/;

export function registerSettingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/settings', async (request) => settingsView(await ctx.store.settings.get(request.workspaceId)));

  app.patch<{ Body: SettingsBody }>('/v1/settings', { schema: { body: settingsBody } }, async (request) => {
    const { workspaceId, body } = request;
    const patch: Partial<WorkspaceSettings> = {};
    const destinations = pick(body, ['allowed_destinations', 'allowedDestinations']);
    if (destinations) {
      const bad = destinations.value.find((d) => !isValidDestinationPattern(d));
      if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not an E.164 prefix (+254…) or a sip: pattern (sip:*@example.com)`, destinations.name);
      patch.allowedDestinations = destinations.value;
    }
    const hosts = pick(body, ['allowed_callback_hosts', 'allowedCallbackHosts']);
    if (hosts) {
      const bad = hosts.value.find((h) => !hostPattern.test(h));
      if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not a host name`, hosts.name);
      patch.allowedCallbackHosts = hosts.value.map((h) => h.toLowerCase());
    }
    const allowPrivate = pick(body, ['allow_private_callbacks', 'allowPrivateCallbacks'])?.value;
    if (allowPrivate !== undefined) patch.allowPrivateCallbacks = allowPrivate;
    const limit = pick(body, ['daily_spend_limit', 'dailySpendLimit']);
    if (limit) {
      if (limit.value === null) patch.dailySpendLimitCents = null;
      else {
        const cents = parseAmountToCents(limit.value);
        if (cents === undefined || cents < 0) throw new AppError('validation_failed', `${limit.name} must be an amount like "500.00" or null`, limit.name);
        patch.dailySpendLimitCents = cents;
      }
    }
    const softphoneUrl = pick(body, ['softphone_routing_url', 'softphoneRoutingUrl']);
    if (softphoneUrl) {
      // Checked against the policy as it will be after this PATCH (the same request may open a host for it).
      if (softphoneUrl.value) checkCallbackUrl(softphoneUrl.value, { ...(await ctx.store.settings.get(workspaceId)), ...patch }, softphoneUrl.name);
      patch.softphoneRoutingUrl = softphoneUrl.value || null;
    }
    return settingsView(await ctx.store.settings.update(workspaceId, patch, ctx.clock.now()));
  });
}
