/** Admission control: at most `max` sessions at once (DESIGN.md §2). Counted in the main thread. */
export class Admission {
  #count = 0

  constructor(readonly max: number) {}

  get count(): number {
    return this.#count
  }

  tryAdmit(): boolean {
    if (this.#count >= this.max) return false
    this.#count++
    return true
  }

  release(): void {
    if (this.#count > 0) this.#count--
  }
}
