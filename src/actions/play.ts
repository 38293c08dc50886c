import { isFetchRefused } from '../shared/fetch-policy.js';
import type { FieldReader } from './field-reader.js';
import { continueWith, type ActionContext, type ActionOutcome } from './action-context.js';
import type { PlayAction } from './schema.js';

/** `play`: a WAV or MP3 from a URL. XML: `<Play loop>url</Play>`. */
export const playAction = {
  name: 'play',
  xmlName: 'Play',
  parse(r: FieldReader): PlayAction {
    return {
      kind: 'play',
      url: r.url('url', { required: true, text: true })!,
      loop: r.integer('loop', { min: 0, max: 1000 }) ?? 1,
    };
  },
  /**
   * Fetches the URL within the workspace's fetch policy (the platform never
   * fetches from its own network) and plays it `loop` times (0: until
   * stopped). A refused URL is recorded as `fetch_not_allowed`, one that
   * cannot be fetched or decoded as `play_failed`; the call goes on.
   */
  async execute(action: PlayAction, ctx: ActionContext, signal: AbortSignal): Promise<ActionOutcome> {
    if (signal.aborted) return continueWith;
    try {
      await ctx.media.playUrl(action.url, { policy: await ctx.fetchPolicy(), loop: action.loop, signal });
    } catch (error) {
      if (signal.aborted) return continueWith;
      if (isFetchRefused(error)) {
        await ctx.recordRefusedFetch('play.url', action.url, error);
      } else {
        ctx.log.warn({ err: error, action: 'play' }, 'play failed');
        await ctx.recordError('play_failed', error instanceof Error ? error.message : String(error), { url: action.url });
      }
    }
    return continueWith;
  },
} as const;
