import type { FastifyInstance } from 'fastify';
import { AppError, quoteInput } from '../../shared/errors.js';
import { isValidDestinationPattern } from '../../shared/destination-policy.js';
import { checkCallbackUrl } from '../../shared/callback-url-policy.js';
import { parseAmountToCents } from '../../billing/rating.js';
import type { WorkspaceSettings } from '../../store/repos/settings-repo.js';
import type { ApiContext } from '../api-context.js';
import { asBody, optionalBoolean, optionalString, optionalStringArray, pick } from '../request-fields.js';
import { settingsView } from '../serializers.js';

const hostPattern = /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$|^\[?[0-9A-Fa-f:.]+\]?$/;

export function registerSettingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/settings', async (request) => settingsView(await ctx.store.settings.get(request.workspaceId)));

  app.patch('/v1/settings', async (request) => {
    const { workspaceId } = request;
    const body = asBody(request.body);
    const patch: Partial<WorkspaceSettings> = {};
    const destinations = optionalStringArray(body, ['allowed_destinations', 'allowedDestinations'], { maxItems: 500 });
    if (destinations !== undefined) {
      const bad = destinations.find((d) => !isValidDestinationPattern(d));
      if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not an E.164 prefix (+254…) or a sip: pattern (sip:*@example.com)`, 'allowed_destinations');
      patch.allowedDestinations = destinations;
    }
    const hosts = optionalStringArray(body, ['allowed_callback_hosts', 'allowedCallbackHosts'], { maxItems: 500 });
    if (hosts !== undefined) {
      const bad = hosts.find((h) => !hostPattern.test(h));
      if (bad !== undefined) throw new AppError('validation_failed', `'${quoteInput(bad)}' is not a host name`, 'allowed_callback_hosts');
      patch.allowedCallbackHosts = hosts.map((h) => h.toLowerCase());
    }
    const allowPrivate = optionalBoolean(body, ['allow_private_callbacks', 'allowPrivateCallbacks']);
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
    const softphoneUrl = optionalString(body, ['softphone_routing_url', 'softphoneRoutingUrl'], { nullable: true, maxLength: 2048 });
    if (softphoneUrl !== undefined) {
      // Checked against the policy as it will be after this PATCH (the same request may open a host for it).
      if (softphoneUrl) checkCallbackUrl(softphoneUrl, { ...(await ctx.store.settings.get(workspaceId)), ...patch }, 'softphone_routing_url');
      patch.softphoneRoutingUrl = softphoneUrl || null;
    }
    return settingsView(await ctx.store.settings.update(workspaceId, patch, ctx.clock.now()));
  });
}
