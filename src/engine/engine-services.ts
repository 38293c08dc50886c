import type { CallbackPolicy } from '../shared/callback-url-policy.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { VoiceCallbackFetcher } from '../webhooks/voice-callback-fetcher.js';
import type { CallBilling } from './call-billing.js';
import type { CallRecords } from './call-records.js';
import type { ConferenceService } from './conference-service.js';
import type { Dialer } from './dialer.js';
import type { SpendGuard } from './spend-guard.js';
import type { StreamRunner } from './stream-runner.js';
import type { CallRecorder } from './call-recorder.js';

/** What every call session is given by the engine. */
export interface EngineServices {
  clock: Clock;
  log: Logger;
  records: CallRecords;
  fetcher: VoiceCallbackFetcher;
  billing: CallBilling;
  spendGuard: SpendGuard;
  dialer: Dialer;
  recorder: CallRecorder;
  conferences: ConferenceService;
  streams: StreamRunner;
  /** Signing secrets and callback policy of a workspace, for voice callbacks. */
  workspaceCredentials(workspaceId: string): Promise<{ secrets: string[]; policy: CallbackPolicy }>;
  /** A workspace's fetch policy as its settings say now, for media fetches (play, waitUrl, stream). */
  workspacePolicy(workspaceId: string): Promise<CallbackPolicy>;
}
