import { body, boolean, type Infer } from './body-schema.js';

/** Body of `PATCH /v1/conferences/{name}/participants/{callId}`; the route asks for at least one of the two. */
export const participantBody = body({
  muted: boolean('Heard by nobody'),
  hold: boolean('Hears the wait music, is not heard'),
});
export type ParticipantBody = Infer<typeof participantBody>;
