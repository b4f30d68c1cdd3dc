/**
 * What a client's folder operation is about to do to many files at once, told to the sync worker
 * before it happens: the scanner then records the files under the old names as the client's
 * deletions (not a vanished data directory, which the deletion guard holds back) and the moved
 * ones as renames (never as new files whose content peers would fetch again).
 */
export type TreeChange =
  { kind: 'delete'; names: string[] } | { kind: 'rename'; pairs: { from: string; to: string }[] }
