/**
 * A member's placement weight: the capacity of the file system holding its data directory, in
 * GiB (statfs total, at least 1). Capacity, not free space: free space lags and differs between
 * members' views, so members would compute different holders and copies would churn.
 */
import { statfsSync } from 'node:fs'

const GIB = 1024 ** 3

export function capacityGiB(dir: string): number {
  try {
    const st = statfsSync(dir)
    return Math.max(1, Math.floor((st.blocks * st.bsize) / GIB))
  } catch {
    return 1
  }
}
