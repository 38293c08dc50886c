/**
 * `count` fixed-size slots cut from one zeroed allocation: one object for the
 * GC and the allocator per ring instead of one per slot, and neighbouring
 * slots in memory. Used for the jitter buffer's payload slots and the RTP
 * send ring. Buffers (a kind of Uint8Array) because dgram sends them as is.
 */
export function slotBlock(count: number, size: number): Buffer[] {
  const block = Buffer.alloc(count * size);
  return Array.from({ length: count }, (_, i) => block.subarray(i * size, (i + 1) * size));
}
