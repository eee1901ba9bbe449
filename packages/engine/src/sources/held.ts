import type { SourceBatch, SourceStructure } from './types.js';

/** Items a batch holds at most, and bytes of its files: a reader hands one on once either is reached. */
export const BATCH_ITEMS = 256;
export const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * What an archive reader has made of its entries and not handed on yet (files held whole,
 * problems, structure findings), to go on as one `SourceBatch`, in order. A reader takes the
 * batch out before anything that cannot join it, and before it waits long.
 */
export class HeldItems {
  private items: SourceBatch['items'] = [];
  private bytes = 0;
  /** Items other than entry names, which cost the consumer next to nothing and do not fill a batch. */
  private counted = 0;

  /** Adds an item; a file must be held whole. */
  add(item: SourceBatch['items'][number]): void {
    this.items.push(item);
    if (item.kind === 'file') this.bytes += item.whole?.length ?? 0;
    if (item.kind !== 'entry') this.counted++;
  }

  /** Adds a structure finding, when a check made one. */
  keep(finding: SourceStructure | undefined): void {
    if (finding) this.add(finding);
  }

  /** Adds the name of the entry `chain` ends with (see `SourceEntry`). */
  name(chain: string[]): void {
    this.items.push({ kind: 'entry', chain });
  }

  /** Whether a batch is as large as one may be. */
  get full(): boolean {
    return this.counted >= BATCH_ITEMS || this.bytes >= BATCH_BYTES;
  }

  /** The batch of everything held, which is then let go of; undefined when nothing is held. */
  take(): SourceBatch | undefined {
    if (this.items.length === 0) return undefined;
    const batch: SourceBatch = { kind: 'batch', items: this.items };
    this.items = [];
    this.bytes = 0;
    this.counted = 0;
    return batch;
  }
}
