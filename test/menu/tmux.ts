/**
 * A program running in a real terminal: a detached tmux session on its own tmux server (a
 * private socket, no user config), driven with send-keys and read with capture-pane. Waits poll
 * the screen with a deadline; nothing sleeps for a fixed time.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitFor } from '../helpers/index.js'

/** True when a tmux binary can be run. */
export function hasTmux(): boolean {
  const probe = spawnSync('tmux', ['-V'], { encoding: 'utf8' })
  return probe.status === 0
}

export interface TerminalOptions {
  command: string
  cwd: string
  env: NodeJS.ProcessEnv
  width?: number
  height?: number
}

const EXIT_LINE = /\[exited with status (\d+)\]/

export class Terminal {
  /** Holds the private tmux server's socket. */
  readonly #dir: string
  readonly session = 'menu'

  private constructor(dir: string) {
    this.#dir = dir
  }

  get #socket(): string {
    return path.join(this.#dir, 'socket')
  }

  /**
   * Start `command` (a shell command line) in a new terminal. When it exits, the pane stays,
   * showing its last screen and its exit status.
   */
  static start(options: TerminalOptions): Terminal {
    const terminal = new Terminal(mkdtempSync(path.join(os.tmpdir(), 'tandem-tmux-')))
    const { width = 120, height = 40 } = options
    const size = ['-x', String(width), '-y', String(height)]
    const keepPane = ['set-option', '-t', terminal.session, 'remain-on-exit', 'on']
    const start = ['new-session', '-d', '-s', terminal.session, ...size, '-c', options.cwd]
    // The tmux server starts with this environment, and the session inherits it.
    // tmux 3.3 does not always fill #{pane_dead_status}: the shell prints the status instead.
    const command = `${options.command}; echo "[exited with status $?]"`
    terminal.tmux([...start, command, ';', ...keepPane], options.env)
    return terminal
  }

  /** Keys by tmux name: 'Enter', 'Down', 'C-c', 'Escape'. */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...keys])
  }

  /** Text typed as is. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.session, '-l', text])
  }

  /** The visible screen, without colours. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.session])
  }

  /** Wait until the screen shows `text` (or matches it); resolves with that screen. */
  async waitFor(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
    let last = ''
    try {
      return await waitFor(
        () => {
          last = this.screen()
          const shown = typeof text === 'string' ? last.includes(text) : text.test(last)
          return shown ? last : undefined
        },
        { timeoutMs, intervalMs: 50, what: `the terminal to show ${String(text)}` },
      )
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- screen ---\n${last}\n--------------`)
    }
  }

  /** The program's exit status once it has exited (and the pane shows it), else undefined. */
  exitStatus(): number | undefined {
    const match = EXIT_LINE.exec(this.screen())
    const dead = this.tmux(['display-message', '-p', '-t', this.session, '#{pane_dead}']).trim()
    return match && dead === '1' ? Number(match[1]) : undefined
  }

  /** Stop the terminal and everything in it (its private tmux server). */
  kill(): void {
    spawnSync('tmux', ['-S', this.#socket, 'kill-server'], { encoding: 'utf8' })
    rmSync(this.#dir, { recursive: true, force: true })
  }

  private tmux(args: string[], env: NodeJS.ProcessEnv = process.env): string {
    const run = spawnSync('tmux', ['-S', this.#socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env,
    })
    if (run.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${run.stderr}`)
    return run.stdout
  }
}

/** `arg` quoted for the shell tmux runs the command in. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`
}
