/**
 * Admission of HTTP clients, in the HTTP worker: a client (its id, or its address without one)
 * holds one of the server's client slots — the same slots binary clients take, counted in the
 * main thread — while it has at least one request in flight or an event stream open. The slot is
 * asked for when its first request arrives and given back when its last one ends.
 */
import type { WireError } from '../../protocol/index.js'
import type { MainLink } from './main-link.js'

interface Slot {
  inFlight: number
  /** Resolves to undefined once admitted, or to the refusal. */
  readonly admitted: Promise<WireError | undefined>
  /** Set once the main thread admitted it: later requests enter without waiting. */
  granted: boolean
}

export class HttpAdmission {
  readonly #slots = new Map<string, Slot>()

  constructor(private readonly main: MainLink) {}

  /**
   * Enter for `client`: true at once when it holds its slot already (no wait, no promise: most
   * requests of a busy client); else a promise of the refusal, or undefined once admitted.
   */
  enter(client: string, address: string): true | Promise<WireError | undefined> {
    let slot = this.#slots.get(client)
    if (slot?.granted) {
      slot.inFlight++
      return true
    }
    if (!slot) {
      const admitted = this.main.call<WireError | undefined>((req) => ({
        t: 'admit',
        req,
        client,
        address,
      }))
      const created: Slot = { inFlight: 0, admitted, granted: false }
      void admitted.then((refusal) => (created.granted = refusal === undefined))
      slot = created
      this.#slots.set(client, slot)
    }
    slot.inFlight++
    const waiting = slot
    return waiting.admitted.then((refusal) => {
      if (refusal) this.#drop(client, waiting, false)
      return refusal
    })
  }

  /** One of `client`'s admitted requests ended. */
  leave(client: string): void {
    const slot = this.#slots.get(client)
    if (slot) this.#drop(client, slot, true)
  }

  #drop(client: string, slot: Slot, admitted: boolean): void {
    if (--slot.inFlight > 0) return
    if (this.#slots.get(client) === slot) this.#slots.delete(client)
    if (admitted) this.main.post({ t: 'leave', client })
  }
}
