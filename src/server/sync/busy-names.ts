/**
 * Names the applier is changing right now. Counted, not a set: two actions on one name (a
 * change that arrives from two peers, a conflict copy also announced) must not clear each
 * other's mark while one of them is still writing.
 */
export class BusyNames {
  readonly #count = new Map<string, number>()

  has(name: string): boolean {
    return this.#count.has(name)
  }

  add(name: string): void {
    this.#count.set(name, (this.#count.get(name) ?? 0) + 1)
  }

  delete(name: string): void {
    const left = (this.#count.get(name) ?? 1) - 1
    if (left > 0) this.#count.set(name, left)
    else this.#count.delete(name)
  }
}
