/**
 * The inquirer prompts as the menu uses them. Esc goes back (the prompt rejects with
 * AbortPromptError, as Ctrl+C makes it reject with ExitPromptError), and a finished prompt
 * leaves one line, "✔ question answer", while an abandoned one leaves nothing: the screen keeps
 * what was done, not what was almost done.
 */
import { confirm, editor, input, search, select, Separator } from '@inquirer/prompts'
import { styleText } from 'node:util'
import { displayText } from '../../protocol/client.js'
import { bold, cyan, green, say } from './ui.js'

type KeyTip = [key: string, action: string]

/** The key hints line as inquirer draws it, with the menu's extra keys. */
function keysTip(extra: KeyTip[]): (keys: KeyTip[]) => string {
  return (keys) =>
    [...keys, ...extra]
      .map(([key, action]) => `${styleText('bold', key)} ${styleText('dim', action)}`)
      .join(styleText('dim', ' • '))
}

const ESC: KeyTip = ['esc', 'back']

interface Run<T> {
  message: string
  /** The answer as the finished line shows it. */
  show: (value: T) => string
  /** Esc abandons the prompt (not in the main menu, where Ctrl+C leaves). Default true. */
  escape?: boolean
}

type Context = { signal: AbortSignal; clearPromptOnDone: true }

async function prompted<T>(run: Run<T>, prompt: (context: Context) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  // The prompt's readline makes stdin emit 'keypress' while it is open.
  const onKey = (_text: unknown, key: { name?: string } | undefined): void => {
    if (key?.name === 'escape') controller.abort()
  }
  if (run.escape !== false) process.stdin.on('keypress', onKey)
  try {
    const value = await prompt({ signal: controller.signal, clearPromptOnDone: true })
    say(`${green('✔')} ${bold(run.message)} ${cyan(run.show(value))}`)
    return value
  } finally {
    process.stdin.off('keypress', onKey)
  }
}

type SelectConfig<T> = Parameters<typeof select<T>>[0]

/** A list to choose from with the arrow keys. */
export function choose<T>(config: SelectConfig<T>, options: { escape?: boolean } = {}): Promise<T> {
  const escape = options.escape !== false
  const theme = { style: { keysHelpTip: keysTip(escape ? [ESC] : []) } }
  const show = (value: T): string => choiceName(config.choices, value)
  return prompted({ message: config.message, show, escape }, (context) =>
    select<T>({ theme, ...config }, context),
  )
}

function choiceName<T>(choices: SelectConfig<T>['choices'], value: T): string {
  for (const choice of choices) {
    if (choice instanceof Separator || typeof choice !== 'object' || choice === null) continue
    const { value: own, name } = choice as { value?: unknown; name?: string }
    if (own === value) return name ?? String(value)
  }
  return String(value)
}

/** A list filtered by what is typed; `extraKeys` adds to the key hints. */
export function find<T>(
  config: Parameters<typeof search<T>>[0],
  show: (value: T) => string,
  extraKeys: KeyTip[] = [],
): Promise<T> {
  const theme = { style: { keysHelpTip: keysTip([['type', 'filter'], ...extraKeys, ESC]) } }
  return prompted({ message: config.message, show }, (context) =>
    search<T>({ theme, ...config }, context),
  )
}

/** One line of text. */
export function ask(config: Parameters<typeof input>[0]): Promise<string> {
  return prompted({ message: config.message, show: displayText }, (context) =>
    input(config, context),
  )
}

/** Yes or no. */
export function yesNo(message: string, defaultAnswer: boolean): Promise<boolean> {
  return prompted({ message, show: (yes) => (yes ? 'Yes' : 'No') }, (context) =>
    confirm({ message, default: defaultAnswer }, context),
  )
}

/** Text in the person's $VISUAL or $EDITOR, opened at once. */
export function inEditor(message: string, initial: string | undefined): Promise<string> {
  const show = (text: string): string => {
    const lines = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    return lines === 1 ? '1 line' : `${lines} lines`
  }
  return prompted({ message, show }, (context) =>
    editor({ message, default: initial, waitForUserInput: false }, context),
  )
}
