/**
 * Answering machine detection's vocabulary (SPEC §17), shared by the API,
 * the engine and the detector in the media path.
 */

/** What answered: the call object's `answered_by` and the answer webhook's `AnsweredBy`. */
export const answeredByValues = ['human', 'machine_start', 'machine_end_beep', 'machine_end_silence', 'fax', 'unknown'] as const;
export type AnsweredBy = (typeof answeredByValues)[number];

/** `Enable`: decide as soon as possible. `DetectMessageEnd`: for a machine, wait for the end of its greeting (voicemail drops). */
export const machineDetectionModes = ['Enable', 'DetectMessageEnd'] as const;
export type MachineDetectionMode = (typeof machineDetectionModes)[number];
