/**
 * The typed voice actions of SPEC §6: what the interpreter runs, whether the
 * customer answered JSON or XML. Defaults are already applied.
 */
export interface SayAction { kind: 'say'; text: string; voice: string | undefined; language: string; loop: number }
export interface PlayAction { kind: 'play'; url: string; loop: number }
export interface PauseAction { kind: 'pause'; lengthSeconds: number }
/** The prompts a getDigits may play while it listens. */
export type PromptAction = SayAction | PlayAction | PauseAction;

export interface GetDigitsAction {
  kind: 'getDigits';
  /** Stop after this many digits; undefined means only finishOnKey or the timeout ends input. */
  numDigits: number | undefined;
  timeoutSeconds: number;
  /** `""` disables it. */
  finishOnKey: string;
  action: string | undefined;
  method: 'POST' | 'GET';
  nested: PromptAction[];
}

export interface DialTarget { kind: 'number' | 'sip'; value: string }
export interface DialAction {
  kind: 'dial';
  targets: DialTarget[];
  callerId: string | undefined;
  timeoutSeconds: number;
  timeLimitSeconds: number | undefined;
  action: string | undefined;
  record: boolean;
  hangupOnStar: boolean;
}

export type ConferenceStatusEvent = 'start' | 'end' | 'join' | 'leave' | 'mute' | 'unmute' | 'full';
export interface ConferenceAction {
  kind: 'conference';
  name: string;
  startOnEnter: boolean;
  endOnExit: boolean;
  beep: boolean;
  muted: boolean;
  maxParticipants: number;
  waitUrl: string | undefined;
  record: boolean;
  statusEventsCallbackUrl: string | undefined;
  statusEvents: ConferenceStatusEvent[];
  collectDigits: boolean;
  numDigits: number | undefined;
  finishOnKey: string;
  digitsCallbackUrl: string | undefined;
}

export interface RedirectAction { kind: 'redirect'; url: string; method: 'POST' | 'GET' }
export interface HangupAction { kind: 'hangup' }
export interface RejectAction { kind: 'reject'; reason: 'rejected' | 'busy' }
export interface RecordAction {
  kind: 'record';
  action: string | undefined;
  maxLengthSeconds: number;
  /** Seconds of silence that end the recording. */
  timeoutSeconds: number;
  finishOnKey: string;
  playBeep: boolean;
}

export type StreamTrack = 'inbound_track' | 'outbound_track' | 'both_tracks';
export type StreamStatusEvent = 'stream-started' | 'stream-stopped' | 'stream-error';
/** jambonz's `mixType`: one track, both as stereo, or both summed to mono. */
export type StreamMixType = 'mono' | 'stereo' | 'mixed';
/** Rates the server's binary audio may come back at (integer multiples of 8 kHz, SPEC §19). */
export type StreamReturnRate = 8000 | 16000 | 24000 | 32000 | 48000;
export interface StreamAction {
  kind: 'stream';
  url: string;
  name: string | undefined;
  track: StreamTrack;
  /** `both_tracks` summed to one channel (jambonz `mixType: "mixed"`). */
  mixed: boolean;
  outputSamplingRate: 8000 | 16000 | 24000;
  statusCallback: string | undefined;
  statusEvents: StreamStatusEvent[];
  metadata: Record<string, string>;
  /** What the server may send back (jambonz `bidirectionalAudio`). */
  bidirectionalAudio: { enabled: boolean; streaming: boolean; sampleRate: StreamReturnRate };
  /** Send the caller's DTMF to the socket (default true). */
  passDtmf: boolean;
  /** HTTP Basic credentials for the upgrade request. */
  wsAuth: { username: string; password: string } | undefined;
}

export type VoiceAction =
  | SayAction | PlayAction | PauseAction | GetDigitsAction | DialAction | ConferenceAction
  | RedirectAction | HangupAction | RejectAction | RecordAction | StreamAction;

export type VoiceActionKind = VoiceAction['kind'];
