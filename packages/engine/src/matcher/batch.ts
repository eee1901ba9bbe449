import { Matcher, type SegmentResult, type SegmentSpec } from './matcher.js';

/** One piece of a file inside a batch buffer. */
export interface BatchSegment extends SegmentSpec {
  offset: number;
  length: number;
}

/** Several segments packed in one buffer, so small files cost one message between threads. */
export interface Batch {
  buffer: ArrayBuffer;
  segments: BatchSegment[];
}

/** Runs the matcher over every segment of a batch; used inline and inside workers alike. */
export function matchBatch(matcher: Matcher, batch: Batch): SegmentResult[] {
  return batch.segments.map((segment) => matcher.matchSegment(new Uint8Array(batch.buffer, segment.offset, segment.length), segment));
}
