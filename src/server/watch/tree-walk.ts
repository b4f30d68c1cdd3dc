/**
 * The data directory as names: the regular files under a folder (temp files skipped, names
 * tandem cannot serve reported once and skipped), and a name's path on disk.
 */
import { statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX, normalizeName } from '../../protocol/names.js'

export class TreeWalk {
  readonly #badNames = new Set<string>()

  constructor(
    readonly root: string,
    private readonly warn: (message: string) => void,
    /** Told of each folder a walk meets ('' = the root), before it is read (the watcher's cue). */
    private readonly onFolder: (name: string) => void = () => undefined,
  ) {}

  full(name: string): string {
    return path.join(this.root, ...name.split('/'))
  }

  /** Names of the regular files under a folder ('' = the root). */
  async files(dirName: string): Promise<string[]> {
    const out: string[] = []
    const visit = async (dir: string): Promise<void> => {
      this.onFolder(path.relative(this.root, dir).split(path.sep).join('/'))
      let entries
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch {
        return
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_PREFIX)) continue
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) await visit(full)
        else if (entry.isFile()) {
          const name = this.#nameOf(full)
          if (name !== undefined) out.push(name)
        }
      }
    }
    await visit(dirName === '' ? this.root : this.full(dirName))
    return out
  }

  #nameOf(full: string): string | undefined {
    return this.servable(path.relative(this.root, full).split(path.sep).join('/'))
  }

  /**
   * `raw` (a path under the root, '/'-separated) as a name tandem can serve, or undefined: a name
   * the protocol refuses (a control character, a backslash…) is never indexed, so never sent to
   * peers that would refuse it. Reported once per name, however often it is walked or hinted.
   */
  servable(raw: string): string | undefined {
    try {
      return normalizeName(raw)
    } catch {
      if (!this.#badNames.has(raw)) {
        this.#badNames.add(raw)
        this.warn(`not mirrored: '${raw}' is not a name tandem can serve`)
      }
      return undefined
    }
  }
}

export async function directoryExists(dir: string): Promise<boolean> {
  try {
    // A read-only look-up: synchronous (see disk-probe.ts); asked before every mirrored change.
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
