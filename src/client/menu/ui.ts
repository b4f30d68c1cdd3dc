/**
 * What the menu writes besides prompts: colours, result lines, the one-line error, and a spinner
 * for network waits. Everything goes to stdout, where the prompts draw, so lines never interleave
 * between two streams. Callers escape the names they put in a line (displayText); the error line
 * and the spinner escape their text here.
 */
import { styleText } from 'node:util'
import ora from 'ora'
import { displayText, TandemError } from '../../protocol/client.js'

type Style = Parameters<typeof styleText>[0]

const out = process.stdout

/** Colour only for a person at a terminal that has not asked for none. */
function paint(style: Style, text: string): string {
  if (!out.isTTY || process.env.NO_COLOR) return text
  return styleText(style, text)
}

export const bold = (text: string): string => paint('bold', text)
export const dim = (text: string): string => paint('dim', text)
export const cyan = (text: string): string => paint('cyan', text)
export const green = (text: string): string => paint('green', text)
export const red = (text: string): string => paint('red', text)
export const yellow = (text: string): string => paint('yellow', text)

let linesSaid = 0

/** One or more lines on the terminal. */
export function say(text = ''): void {
  out.write(`${text}\n`)
  linesSaid += text.split('\n').length
}

/** How many lines `say` wrote since the last call (to know whether the menu would hide them). */
export function takeLineCount(): number {
  const count = linesSaid
  linesSaid = 0
  return count
}

/** Remove the line just written (a hint that has served its purpose). */
export function eraseLastLine(): void {
  if (out.isTTY) out.write('\x1b[1A\x1b[2K')
}

export function success(text: string): void {
  say(`${green('✔')} ${text}`)
}

export function note(text: string): void {
  say(dim(text))
}

export function warn(text: string): void {
  say(`${yellow('!')} ${text}`)
}

/**
 * The one friendly line for a failure: its code, then what happened, escaped (the message may
 * quote a name, and may come from the server). No stack traces.
 */
export function showError(err: unknown): void {
  const { code, message } = describeError(err)
  const text = err instanceof TandemError ? message : message.replace(/\s*\n\s*/g, ' ')
  say(`${red('✖')} ${red(displayText(code))}: ${displayText(text)}`)
  if (process.env.TANDEM_DEBUG && err instanceof Error && code === 'ERR_INTERNAL') {
    say(dim(err.stack ?? ''))
  }
}

function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof TandemError) return { code: err.code, message: err.message }
  if (err instanceof TypeError) return { code: 'ERR_BAD_REQUEST', message: err.message }
  return { code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) }
}

const SPINNER_DELAY_MS = 150 // quick answers finish before a spinner would only flicker

/**
 * Wait for `work` with a spinner saying `text`. The spinner appears only if the wait is long
 * enough to notice, and is cleared at the end so that the result line stands alone.
 */
export async function waitWith<T>(
  text: string,
  work: Promise<T> | ((setText: (text: string) => void) => Promise<T>),
): Promise<T> {
  const spinner = ora({ text: displayText(text), stream: out }) // `text` may quote a name
  const timer = setTimeout(() => spinner.start(), SPINNER_DELAY_MS)
  // A new text (why it still waits) is worth showing at once.
  const setText = (next: string): void => {
    spinner.text = displayText(next)
    if (!spinner.isSpinning) spinner.start()
  }
  try {
    return await (typeof work === 'function' ? work(setText) : work)
  } finally {
    clearTimeout(timer)
    if (spinner.isSpinning) spinner.stop()
  }
}

/** The person backed out of something the menu asked (outside an inquirer prompt). */
export class Cancelled extends Error {
  override name = 'Cancelled'
}

/** True when a prompt ended because the person left it (Ctrl+C, Esc, end of input). */
export function isPromptExit(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return ['ExitPromptError', 'AbortPromptError', 'CancelPromptError', 'Cancelled'].includes(
    err.name,
  )
}

/** Cut `text` to `max` display characters, marking the cut with an ellipsis. */
export function fit(text: string, max: number): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`
}
