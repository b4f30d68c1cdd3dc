/** Human forms of sizes, times and durations, shared by every renderer. */
import { humanSize } from '../../../protocol/client.js'

// One unit system with the server (its console, its messages): the formatter lives in protocol.
export { humanShare, humanSize } from '../../../protocol/client.js'

/** Bytes per second as "12.3 MiB/s". */
export function humanSpeed(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return '-'
  return `${humanSize(Math.round((bytes * 1000) / elapsedMs))}/s`
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

/** Local time as "2026-03-01 14:05" (or with seconds). */
export function localTime(ms: number, withSeconds = false): string {
  const d = new Date(ms)
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
  return withSeconds ? `${date} ${time}:${pad2(d.getSeconds())}` : `${date} ${time}`
}

/** "14:03:10" when `ms` falls on the same local day as `now`, else "2026-03-02 14:03:10". */
export function clockTime(ms: number, now = Date.now()): string {
  const full = localTime(ms, true)
  return full.slice(0, 10) === localTime(now).slice(0, 10) ? full.slice(11) : full
}

/** 850 ms, 12.3 s, 4 min 05 s, 3 h 07 min, 2 d 04 h. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${pad2(Math.floor(s % 60))} s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h} h ${pad2(m % 60)} min`
  return `${Math.floor(h / 24)} d ${pad2(h % 24)} h`
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}
