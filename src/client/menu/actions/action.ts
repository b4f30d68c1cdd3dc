import type { Session } from '../session.js'

/** One entry of the menu. `run` reports its own results; errors it throws are shown by the loop. */
export interface MenuAction {
  /** Stable key, e.g. for choosing last time's action as the default. */
  id: string
  /** The menu line. */
  title: string
  /** Shown under the menu while the line is highlighted. */
  description: string
  /** The action ends when the person presses a key: no "press any key" after it. */
  endsWithKey?: boolean
  run(session: Session): Promise<void>
}
