/**
 * Weighted rendezvous hashing (highest random weight): every member scores every file from the
 * two names alone, and the file goes to the highest scores. Anyone who knows the members and their
 * weights computes the same holders without a lookup, and adding a member moves only the files
 * whose new highest score is the newcomer's — about 1/N of them. Pure: no I/O, no clock.
 *
 * The weighted form (Schindelhauer and Schomaker): score = -weight / ln(u), with u uniform in
 * (0, 1) drawn from a hash of (file, member). A member of twice the weight wins twice as often.
 */
import { createHash } from 'node:crypto'

/** 2^53: u is a 53-bit fraction, exact in a double. */
const SCALE = 2 ** 53

/** u ∈ (0, 1) for a file and a member: the first 53 bits of SHA-256(file \0 member), shifted off 0. */
export function uniform(fileId: string, member: string): number {
  const digest = createHash('sha256').update(fileId).update('\0').update(member).digest()
  // 21 bits from the first word, 32 from the second: 53 bits.
  const high = digest.readUInt32BE(0) >>> 11
  const low = digest.readUInt32BE(4)
  return (high * 2 ** 32 + low + 0.5) / SCALE
}

/** The member's score for the file: larger wins. A weight of 0 or less never wins. */
export function hrwScore(fileId: string, member: string, weight: number): number {
  if (!(weight > 0)) return -Infinity
  return -weight / Math.log(uniform(fileId, member))
}
