/**
 * The page's `./agent-store`: which agents are free and who is waiting.
 * In memory, for one process; a real call center keeps this in its CRM or Redis.
 */
export interface Agent {
  id: string;
  phoneNumber: string;
  busy: boolean;
  markBusy(): void;
  markFree(): void;
}

export interface AgentStore {
  agents: Agent[];
  findAvailableAgent(): Promise<Agent | undefined>;
  /** Callers on hold, oldest first (their call ids). */
  waiting: string[];
  enqueueCall(callId: string): Promise<void>;
  /** Takes `callId` out of the queue, or the oldest caller when none is given. */
  dequeueCall(callId?: string): Promise<string | undefined>;
}

export function createAgentStore(agents: ReadonlyArray<{ id: string; phoneNumber: string }>): AgentStore {
  const list: Agent[] = agents.map(({ id, phoneNumber }) => {
    const agent: Agent = {
      id, phoneNumber, busy: false,
      markBusy: () => { agent.busy = true; },
      markFree: () => { agent.busy = false; },
    };
    return agent;
  });
  const waiting: string[] = [];
  return {
    agents: list,
    waiting,
    findAvailableAgent: async () => list.find((a) => !a.busy),
    enqueueCall: async (callId) => { if (!waiting.includes(callId)) waiting.push(callId); },
    dequeueCall: async (callId) => {
      const index = callId === undefined ? 0 : waiting.indexOf(callId);
      return index >= 0 && index < waiting.length ? waiting.splice(index, 1)[0] : undefined;
    },
  };
}
