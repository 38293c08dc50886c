/** The conference room engine's public surface for the call engine and the REST API. */
export { ConferenceManager, type ConferenceManagerOptions } from './conference-manager.js';
export { DEFAULT_MAX_PARTICIPANTS } from './conference-room.js';
export type {
  ConferenceEvent,
  ConferenceEventType,
  ConferenceRecording,
  JoinInput,
  LeaveReason,
  ParticipantInfo,
  RoomInfo,
  RoomState,
} from './conference-types.js';
