import { StorageError } from '../../model/errors.js';
import { type DeadLetterRecord, decodeDeadLetter, parseRecord } from '../../model/records.js';
import type { QuarantineReport } from '../local-store.js';

/** A row as the store reads it: its key column and its JSON record. */
export interface RecordRow {
  readonly id: string;
  readonly record: string;
}

/** What a row that cannot be decoded is reported as. */
export function damaged(row: RecordRow, error: unknown): QuarantineReport {
  const reason = error instanceof Error ? error.message : String(error);
  return { id: row.id, reason, at: Date.now(), raw: row.record };
}

/** A dead letter, or `undefined` (reported) when its row is damaged: it stays, so it can still be discarded. */
export function readDeadLetter(
  row: RecordRow,
  report: ((report: QuarantineReport) => void) | undefined,
): DeadLetterRecord | undefined {
  try {
    return decodeDeadLetter(parseRecord(row.record));
  } catch (error) {
    report?.(damaged(row, error));
    return undefined;
  }
}

/** The due time a task's record gives its key's schedule; a damaged one is due now, so a read quarantines it. */
export function dueOf(record: string): number {
  try {
    const due = (JSON.parse(record) as { nextAttemptAt?: unknown }).nextAttemptAt;
    return typeof due === 'number' ? due : 0;
  } catch {
    return 0;
  }
}

export function wrap(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`SQLite could not ${what}`, { cause: error });
}
