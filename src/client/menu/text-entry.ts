/**
 * Text typed in for create, write and append: line by line right here (a readline, so editing a
 * line and pasting many lines work), or in the person's $VISUAL / $EDITOR when one is set.
 */
import readline from 'node:readline'
import { choose, inEditor } from './prompts.js'
import { Cancelled, dim, note } from './ui.js'

export interface TextOptions {
  /** What the text is, for the hints ("the new file's text"). */
  what: string
  /** Where the editor starts (the file's current content, for a replace); fetched only then. */
  initial?: () => Promise<string | undefined>
}

/** The text, ending with a newline unless it is empty. Rejects with Cancelled on Esc / Ctrl+C. */
export async function enterText(options: TextOptions): Promise<string> {
  const editorName = process.env.VISUAL || process.env.EDITOR
  if (editorName) {
    const how = await choose({
      message: `How would you like to enter ${options.what}?`,
      choices: [
        { value: 'type', name: 'Type or paste it here' },
        {
          value: 'editor',
          name: `Open ${editorName}`,
          description: options.initial ? 'starts with the current content' : '',
        },
      ],
    })
    if (how === 'editor') return inEditor(`Editing ${options.what}`, await options.initial?.())
  }
  return typeLines(options.what)
}

const CLEAR_LINE = '\r\x1b[2K'
const UP_AND_CLEAR = '\x1b[1A\x1b[2K'

function typeLines(what: string): Promise<string> {
  note(`Type or paste ${what}: Ctrl+D or two empty lines finish, Esc cancels.`)
  const stdin = process.stdin
  const rl = readline.createInterface({ input: stdin, output: process.stdout, terminal: true })
  const lines: string[] = []
  return new Promise<string>((resolve, reject) => {
    let settled = false
    // `erase` takes the unused prompt lines off the screen: the open one, or two blank ones.
    const settle = (finish: () => void, erase = CLEAR_LINE): void => {
      if (settled) return
      settled = true
      process.stdout.write(erase)
      stdin.off('keypress', onKey)
      rl.close()
      finish()
    }
    const done = (erase?: string): void =>
      settle(() => resolve(lines.length === 0 ? '' : `${lines.join('\n')}\n`), erase)
    const cancel = (): void => settle(() => reject(new Cancelled('text entry cancelled')))
    const onKey = (_text: unknown, key: { name?: string } | undefined): void => {
      if (key?.name === 'escape') cancel()
    }
    const prompt = (): void => {
      rl.setPrompt(dim(`${String(lines.length + 1).padStart(3)} │ `))
      rl.prompt()
    }
    rl.on('line', (line) => {
      if (line === '' && lines.at(-1) === '') {
        lines.pop()
        return done(UP_AND_CLEAR.repeat(2))
      }
      lines.push(line)
      prompt()
    })
    rl.on('close', () => done()) // Ctrl+D on an empty line, or the end of input
    rl.on('SIGINT', cancel)
    stdin.on('keypress', onKey)
    prompt()
  })
}
