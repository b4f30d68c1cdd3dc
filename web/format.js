// How numbers and times read on the page: sizes in SI units as the console prints them
// ("12.0 kB"), times in the browser's own locale.

const UNITS = ['kB', 'MB', 'GB', 'TB', 'PB']

export function humanSize(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '—'
  if (bytes < 1000) return `${bytes} B`
  let value = bytes
  let unit = -1
  do {
    value /= 1000
    unit++
  } while (value >= 999.95 && unit < UNITS.length - 1)
  return `${value.toFixed(1)} ${UNITS[unit]}`
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})
const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

/** A file's time: the date and minute. */
export function fileTime(ms) {
  return typeof ms === 'number' ? dateTime.format(ms) : '—'
}

/** An event's time of day, to the second. */
export function clockTime(ms) {
  return typeof ms === 'number' ? timeOnly.format(ms) : ''
}

/** The full ISO time, for a tooltip and a <time datetime>. */
export function isoTime(ms) {
  return typeof ms === 'number' ? new Date(ms).toISOString() : ''
}

/** "412 ms ago", "3.1 s ago", "4 min ago", "2 h ago". */
export function ago(ms, now = Date.now()) {
  if (typeof ms !== 'number') return 'never'
  const delta = Math.max(0, now - ms)
  if (delta < 1000) return `${delta} ms ago`
  if (delta < 60_000) return `${(delta / 1000).toFixed(1)} s ago`
  if (delta < 3_600_000) return `${Math.round(delta / 60_000)} min ago`
  if (delta < 86_400_000) return `${Math.round(delta / 3_600_000)} h ago`
  return `${Math.round(delta / 86_400_000)} d ago`
}

/** "in 4 min" for a lock's end, or "until unlocked". */
export function until(ms, now = Date.now()) {
  if (typeof ms !== 'number') return 'until unlocked'
  const delta = ms - now
  if (delta <= 0) return 'ending now'
  if (delta < 60_000) return `for ${Math.ceil(delta / 1000)} s more`
  if (delta < 3_600_000) return `for ${Math.ceil(delta / 60_000)} min more`
  return `for ${Math.ceil(delta / 3_600_000)} h more`
}
