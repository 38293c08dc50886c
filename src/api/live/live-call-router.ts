import { access } from 'node:fs/promises';
import { NodeUnreachable, type NodeBus } from '../../cluster/node-bus.js';
import { fileChunkOf, type NodeRequest } from '../../cluster/node-messages.js';
import { AppError, quoteInput } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { liveCallStatuses, type CallRecord } from '../../store/repos/call-repo.js';
import type { RecordingRecord } from '../../store/repos/recording-repo.js';
import type { Store } from '../../store/store.js';
import { callNotActive } from './live-operations.js';

export interface LiveCallRouterOptions {
  store: Store;
  /** This node's id (calls.node_id of the calls it runs). */
  nodeId: string;
  /** The link to the other nodes; undefined on a single node (no --nats-url): everything is local. */
  bus: NodeBus | undefined;
  /** Carries out a request on this node (live-operations.ts `performLive`). */
  perform: (request: NodeRequest) => Promise<unknown>;
  logger: Logger;
}

/** Statuses of a call that may still be running somewhere. */
const live = new Set<string>(liveCallStatuses);

/**
 * The one place that decides where an API request about a live thing is
 * carried out (SPEC §16). The store says which node runs a call
 * (`calls.node_id`): this node → locally, as on a single node; another node
 * → over NATS, and its answer (result or error) is this node's answer. A call
 * the store says has ended, or whose node is not running or has no such live
 * call, is `409 call_not_active` at once: no waiting for a time-out.
 */
export class LiveCallRouter {
  constructor(private readonly options: LiveCallRouterOptions) {}

  /** A request about call `callId` (live control, a participant's mute, hold or kick). */
  async forCall(workspaceId: string, callId: string, request: NodeRequest): Promise<unknown> {
    const { bus, nodeId, perform } = this.options;
    if (!bus) return perform(request);
    const call = await this.options.store.calls.get(workspaceId, callId);
    // Unknown calls, and calls made before node ids were written, answer here as they always have.
    if (!call || call.nodeId === null || call.nodeId === nodeId) return perform(request);
    if (!live.has(call.status)) throw callNotActive(call);
    return this.#ask(call.nodeId, request, call);
  }

  /**
   * A request about conference room `name` (the room, or one of its
   * participants): carried out on the room's home node (SPEC §16), as the
   * store names it; here when the room is here, or lives nowhere (then the
   * local answer is the 404).
   */
  async forRoom(workspaceId: string, name: string, request: NodeRequest, roomIsHere: boolean): Promise<unknown> {
    const { bus, nodeId, perform } = this.options;
    if (!bus || roomIsHere) return perform(request);
    const home = await this.options.store.roomHomes.get(workspaceId, name);
    if (home === undefined || home === nodeId) return perform(request);
    try {
      return await bus.request(home, request);
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      this.options.logger.warn({ err: error, node: home, room: name }, 'node holding a conference did not answer');
      throw new AppError('not_found', `no active conference '${quoteInput(name)}' in this workspace (its node ${error.nodeId} does not answer)`);
    }
  }

  /** The live rooms of the workspace whose home is another node (SPEC §16), as their homes describe them; rooms whose home does not answer are left out. */
  async roomsElsewhere(workspaceId: string): Promise<unknown[]> {
    const { bus, nodeId } = this.options;
    if (!bus) return [];
    const homes = (await this.options.store.roomHomes.list(workspaceId)).filter((h) => h.nodeId !== nodeId);
    const rooms = await Promise.all(homes.map(async (h) => {
      try {
        return await bus.request(h.nodeId, { kind: 'conference.get', workspaceId, name: h.room });
      } catch (error) {
        if (error instanceof NodeUnreachable || (error instanceof AppError && error.code === 'not_found')) return undefined;
        throw error;
      }
    }));
    return rooms.filter((r) => r !== undefined);
  }

  /**
   * A request about a sandbox call: sandbox calls live in the memory of the
   * node whose sandbox placed them, so when this node does not have it, every
   * node is asked and the one that has it answers.
   */
  async forSandboxCall(request: NodeRequest): Promise<unknown> {
    const { bus, perform } = this.options;
    try {
      return await perform(request);
    } catch (error) {
      if (!bus || !(error instanceof AppError) || (error.code !== 'not_found' && error.code !== 'sandbox_not_running')) throw error;
      return bus.requestAny(request, error);
    }
  }

  /** A sandbox call's WAV from whichever node has it, assembled from its chunks. */
  async sandboxAudio(workspaceId: string, id: string, local: () => Buffer): Promise<Buffer> {
    try {
      return local();
    } catch (error) {
      const bus = this.options.bus;
      if (!bus || !(error instanceof AppError) || (error.code !== 'not_found' && error.code !== 'sandbox_not_running')) throw error;
      return assemble((offset) => bus.requestAny({ kind: 'sandbox.audio.chunk', workspaceId, id, offset }, error));
    }
  }

  /**
   * A recording made on another node: the node that ran its call sends it in
   * chunks over NATS (the nodes already reach each other there; no node's
   * HTTP port or API key is needed, and nothing else must be reachable).
   * A room's recording comes from whichever node has it (its home). Undefined
   * when it was made here (a room's: its file is on this node's disk), its
   * node is unknown, or no node answers: the caller reads this node's disk (a
   * shared volume may hold it).
   */
  async remoteRecording(recording: RecordingRecord): Promise<Buffer | undefined> {
    const { bus, nodeId } = this.options;
    if (!bus) return undefined;
    // A room's recording is written on the room's home node, which may not run the call it is filed under: read here when
    // this node is that home (its disk has the file), else whoever has it answers.
    if (recording.conference !== null) {
      if (await fileExists(recording.path)) return undefined;
      const request = { kind: 'recording.chunk' as const, workspaceId: recording.workspaceId, recordingId: recording.id, offset: 0 };
      try {
        return await assemble((offset) => bus.requestAny({ ...request, offset }, new AppError('not_found', `the audio of recording ${recording.id} is no longer stored`)));
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') return undefined;
        throw error;
      }
    }
    if (!recording.callId) return undefined;
    const call = await this.options.store.calls.get(recording.workspaceId, recording.callId);
    if (!call || call.nodeId === null || call.nodeId === nodeId) return undefined;
    const holder = call.nodeId;
    try {
      return await assemble((offset) => bus.request(holder, { kind: 'recording.chunk', workspaceId: recording.workspaceId, recordingId: recording.id, offset }));
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      this.options.logger.warn({ err: error, recordingId: recording.id, node: holder }, 'node holding a recording did not answer; reading this node\'s disk');
      return undefined;
    }
  }

  async #ask(holder: string, request: NodeRequest, call: CallRecord): Promise<unknown> {
    try {
      return await this.options.bus!.request(holder, request);
    } catch (error) {
      if (!(error instanceof NodeUnreachable)) throw error;
      this.options.logger.warn({ err: error, callId: call.id, node: holder }, 'node holding a call did not answer');
      throw new AppError('call_not_active', `call ${quoteInput(call.id)} is not live: its node ${holder} ${error.reason === 'timeout' ? 'did not answer' : 'is not running'}`, 'id');
    }
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A file fetched chunk by chunk, until its size (from the first chunk) is reached. */
async function assemble(chunkAt: (offset: number) => Promise<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let received = 0;
  let size = Number.POSITIVE_INFINITY;
  while (received < size) {
    const chunk = fileChunkOf(await chunkAt(received));
    if (size === Number.POSITIVE_INFINITY) size = chunk.size;
    const data = Buffer.from(chunk.data, 'base64');
    // An empty chunk before the end: the file shrank on that node; answer what arrived rather than ask forever.
    if (data.length === 0) break;
    parts.push(data);
    received += data.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}
