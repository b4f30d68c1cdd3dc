/**
 * Choosing a local file or folder: a search list that starts in the current directory and
 * completes paths as they are typed (Tab takes the highlighted entry, so Tab on a folder opens
 * it). Hidden entries show once a '.' is typed. Names are shown escaped (displayText); Tab on a
 * name that needed escapes takes its escaped form, which names no file.
 */
import type { Dirent } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { displayText } from '../../protocol/client.js'
import { humanSize } from '../cli/render/format.js'
import { find } from './prompts.js'

const MAX_ENTRIES = 200
const PAGE_SIZE = 10

interface PathChoice {
  value: string
  name: string
  description: string
}

/** The chosen path as typed (with '~' expanded); it exists when returned. */
export async function pickLocal(message: string): Promise<string> {
  const config = {
    message,
    pageSize: PAGE_SIZE,
    source: (term: string | undefined) => localChoices(term ?? ''),
    validate: async (value: string) => {
      const stat = await fs.stat(value).catch(() => undefined)
      return stat?.isFile() || stat?.isDirectory()
        ? true
        : `'${displayText(value)}' is not a file or folder`
    },
  }
  return find<string>(config, displayText, [['tab', 'complete']])
}

async function localChoices(typed: string): Promise<PathChoice[]> {
  const expanded = expandHome(typed)
  const slash = typed.lastIndexOf('/')
  // The folder part as the person typed it, so that choices (and Tab) keep their spelling.
  const typedDir = slash === -1 ? '' : typed.slice(0, slash + 1)
  const dir = slash === -1 ? '.' : expandHome(typedDir)
  const prefix = typed.slice(slash + 1).toLowerCase()
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[])
  const shown = entries
    .filter((e) => e.name.toLowerCase().startsWith(prefix))
    .filter((e) => prefix.startsWith('.') || !e.name.startsWith('.'))
    .sort(foldersFirst)
    .slice(0, MAX_ENTRIES)
  const choices = await Promise.all(
    shown.map((e) => describe(path.join(dir, e.name), typedDir + e.name)),
  )
  const exact = typed === '' ? undefined : await describe(expanded, typed)
  const all = exact ? [exact, ...choices.filter((c) => c?.value !== exact.value)] : choices
  return all.filter((c): c is PathChoice => c !== undefined)
}

/** A choice for one path; undefined for what cannot be uploaded (sockets, broken links). */
async function describe(real: string, shown: string): Promise<PathChoice | undefined> {
  const stat = await fs.stat(real).catch(() => undefined)
  if (stat?.isDirectory()) {
    const name = displayText(shown.endsWith('/') ? shown : `${shown}/`)
    return { value: real, name, description: 'folder · Enter uploads all of it, Tab opens it' }
  }
  if (stat?.isFile())
    return { value: real, name: displayText(shown), description: humanSize(stat.size) }
  return undefined
}

function foldersFirst(a: Dirent, b: Dirent): number {
  if (a.isDirectory() !== b.isDirectory()) return a.isDirectory() ? -1 : 1
  return a.name.localeCompare(b.name)
}

function expandHome(typed: string): string {
  if (typed === '~') return os.homedir()
  return typed.startsWith('~/') ? path.join(os.homedir(), typed.slice(2)) : typed
}
