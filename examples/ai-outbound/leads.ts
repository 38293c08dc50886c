/** What the bridge learnt about each lead (by call id): the CRM of this example. */
export interface Lead {
  callId: string;
  hot: boolean;
  metadata?: Record<string, any>;
  said: string[];
  answers: Array<{ step: number; text: string }>;
  digits: string[];
  /** Marks answered by the platform, as `name:playout` or `name:cleared`. */
  marks: string[];
  framesIn: number;
}

export class LeadBook {
  readonly #leads = new Map<string, Lead>();

  get(callId: string): Lead {
    let lead = this.#leads.get(callId);
    if (!lead) {
      lead = { callId, hot: false, said: [], answers: [], digits: [], marks: [], framesIn: 0 };
      this.#leads.set(callId, lead);
    }
    return lead;
  }

  has(callId: string): boolean {
    return this.#leads.has(callId);
  }
}
