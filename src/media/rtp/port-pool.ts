/**
 * The RTP port range: even ports for RTP, port+1 for RTCP (RFC 3550 §11).
 * `allocate` binds both UDP sockets (skipping ports another process holds)
 * and hands them to exactly one owner; `release` closes them and returns the
 * pair to the pool. Allocation rotates through the range so a just-released
 * port is not reused at once (late packets of the old call would land in the
 * new one).
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { mediaDefaults } from '../media-defaults.js';

/** Options for `PortPool`. */
export interface PortPoolOptions {
  /** First port (rounded up to even). Default 20000. */
  min?: number;
  /** Last port (inclusive). Default 29999. */
  max?: number;
  /** Address to bind. Default '0.0.0.0'. */
  bindAddress?: string;
}

/** A bound RTP/RTCP socket pair, owned by one session until released. */
export interface PortLease {
  readonly port: number;
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
}

export class PortPool {
  readonly min: number;
  readonly max: number;
  readonly bindAddress: string;
  readonly #inUse = new Set<number>();
  #cursor: number;

  constructor(options: PortPoolOptions = {}) {
    const min = options.min ?? mediaDefaults.portMin;
    this.min = min + (min % 2);
    this.max = options.max ?? mediaDefaults.portMax;
    if (this.max < this.min + 1) throw new RangeError(`port range ${this.min}-${this.max} holds no RTP/RTCP pair`);
    this.bindAddress = options.bindAddress ?? mediaDefaults.bindAddress;
    this.#cursor = this.min;
  }

  /** Pairs in the range. */
  get capacity(): number {
    return Math.floor((this.max - this.min + 1) / 2);
  }

  /** Pairs currently leased. */
  get inUse(): number {
    return this.#inUse.size;
  }

  /** Bind the next free even port and port+1. Rejects when the range is exhausted. */
  async allocate(): Promise<PortLease> {
    for (let tries = 0; tries < this.capacity; tries++) {
      const port = this.#cursor;
      this.#cursor += 2;
      if (this.#cursor + 1 > this.max) this.#cursor = this.min;
      if (this.#inUse.has(port)) continue;
      this.#inUse.add(port);
      try {
        const rtp = await bind(port, this.bindAddress);
        let rtcp: dgram.Socket;
        try {
          rtcp = await bind(port + 1, this.bindAddress);
        } catch (error) {
          rtp.close();
          throw error;
        }
        return { port, rtp, rtcp };
      } catch {
        // Held by another process: try the next pair.
        this.#inUse.delete(port);
      }
    }
    throw new Error(`no free RTP port pair in ${this.min}-${this.max}`);
  }

  /** Close the lease's sockets and return its port. Safe to call twice. */
  release(lease: PortLease): void {
    if (!this.#inUse.delete(lease.port)) return;
    for (const socket of [lease.rtp, lease.rtcp]) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves the destination of every `send` through its `lookup`, and
 * the default (`dns.lookup`) answers even an IP literal on the next tick: per
 * RTP packet a regex, a closure and a `process.nextTick`, about a tenth of a
 * leg's CPU. SDP almost always carries IP literals, so answer those at once
 * (the send then runs synchronously) and leave names to `dns.lookup`. The
 * last literal is remembered, so the usual packet costs one string compare.
 */
function literalLookup(): (hostname: string, options: dns.LookupOneOptions | number, callback: LookupCallback) => void {
  let lastAddress = '';
  let lastFamily = 0;
  return (hostname, options, callback) => {
    if (hostname === lastAddress) return callback(null, hostname, lastFamily);
    const family = net.isIP(hostname);
    const wanted = typeof options === 'number' ? options : (options?.family ?? 0);
    if (family !== 0 && (wanted === 0 || wanted === family)) {
      lastAddress = hostname;
      lastFamily = family;
      return callback(null, hostname, family);
    }
    dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
  };
}

function bind(port: number, address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const family = address.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type: family, lookup: literalLookup() as NonNullable<dgram.SocketOptions['lookup']> });
    const onError = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
