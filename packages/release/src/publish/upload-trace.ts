import type { AuditRecord } from '../audit.js';

/** The stage of the record `publishRelease` appends before it starts npm or twine. */
export const UPLOAD_START_STAGE = 'publish.upload-start';

/** The stage of the record that gives the upload's result (or its interruption). */
export const UPLOAD_STAGE = 'publish.upload';

/**
 * The upload-start records of `records` that no upload record answers: each is an upload that
 * is still running, or whose run was killed during it (SIGKILL, out of memory, a runner
 * cancelled hard), so its files may or may not be on the registry. A start is answered by the
 * next upload record of the same ecosystem, registry and files (name and sha256); runs that
 * wrote one log at once are told apart that way, and a start left by a killed run stays
 * unanswered when the same release is run again.
 */
export function unfinishedUploads(records: Iterable<AuditRecord>): AuditRecord[] {
  const tracker = new UploadTracker();
  for (const r of records) tracker.see(r);
  return tracker.unfinished();
}

/** `unfinishedUploads` fed one record at a time, for a log read piece by piece: it holds only the open starts. */
export class UploadTracker {
  private readonly open: { key: string; record: AuditRecord }[] = [];

  /** Takes the next record of the log. */
  see(r: AuditRecord): void {
    if (r.stage !== UPLOAD_START_STAGE && r.stage !== UPLOAD_STAGE) return;
    // A dry run starts no upload, and answers none.
    if (r.details?.dryRun === true) return;
    const key = uploadKey(r);
    if (r.stage === UPLOAD_START_STAGE) {
      this.open.push({ key, record: r });
      return;
    }
    // The latest start of the same files: an earlier one without an answer is a run killed before.
    const at = this.open.findLastIndex((o) => o.key === key);
    if (at >= 0) this.open.splice(at, 1);
  }

  /** The starts seen that no upload record has answered so far. */
  unfinished(): AuditRecord[] {
    return this.open.map((o) => o.record);
  }
}

/** The registry named by an upload or upload-start record, as recorded (user information masked). */
export function uploadRegistry(record: AuditRecord): string | undefined {
  const registry = record.details?.registry;
  return typeof registry === 'string' ? registry : undefined;
}

function uploadKey(r: AuditRecord): string {
  const subjects = Array.isArray(r.subjects) ? r.subjects.map((s) => [s?.name, s?.sha256]) : [];
  return JSON.stringify([r.details?.ecosystem, uploadRegistry(r), subjects]);
}
