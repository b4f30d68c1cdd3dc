/**
 * Admission control, counted in the main thread: client slots, taken only once a
 * client's hello has arrived, and places for connections that have not said hello yet.
 */

/** At most `max` client sessions at once. */
export class Admission {
  #count = 0
  #listener: ((count: number) => void) | undefined

  constructor(readonly max: number) {}

  get count(): number {
    return this.#count
  }

  /** Told the new count after each admission and release (the members hear it in heartbeats). */
  onChange(listener: (count: number) => void): void {
    this.#listener = listener
  }

  tryAdmit(): boolean {
    if (this.#count >= this.max) return false
    this.#count++
    this.#listener?.(this.#count)
    return true
  }

  release(): void {
    if (this.#count === 0) return
    this.#count--
    this.#listener?.(this.#count)
  }
}

/** Why a connection found no place before its hello. */
export type PreHelloRefusal = 'address' | 'total'

/**
 * Connections that have not said hello yet (or are being answered without a client slot: a
 * peer's welcome, a refusal): at most `perAddress` from one remote address and `total` in all, so
 * one host cannot hold them all and together they stay small in memory.
 */
export class PreHelloLimits {
  readonly #byAddress = new Map<string, number>()
  #total = 0

  constructor(
    readonly perAddress: number,
    readonly total: number,
  ) {}

  get count(): number {
    return this.#total
  }

  from(address: string): number {
    return this.#byAddress.get(address) ?? 0
  }

  /** Take a place for a connection from `address`, or say why there is none. */
  tryEnter(address: string): PreHelloRefusal | undefined {
    const fromAddress = this.from(address)
    if (fromAddress >= this.perAddress) return 'address'
    if (this.#total >= this.total) return 'total'
    this.#byAddress.set(address, fromAddress + 1)
    this.#total++
    return undefined
  }

  leave(address: string): void {
    const fromAddress = this.from(address)
    if (fromAddress === 0) return
    if (fromAddress === 1) this.#byAddress.delete(address)
    else this.#byAddress.set(address, fromAddress - 1)
    this.#total--
  }
}
