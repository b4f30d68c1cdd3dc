// A session's groups of small uploads (ops/publish-group.ts): files sealed in one turn start
// together; one sealed while a group publishes waits for that whole group; a group holds at most
// its maximum; a member that leaves twice counts once.
import { describe, expect, it } from 'vitest'
import { PublishGroup } from '../../src/server/ops/publish-group.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('publish groups', () => {
  it('joins of one turn start together; a later join waits until every member left', async () => {
    const groups = new PublishGroup()
    const started: string[] = []
    const join = (label: string) =>
      groups.join().then((leave) => {
        started.push(label)
        return leave
      })
    const first = [join('a'), join('b'), join('c')]
    const leaves = await Promise.all(first)
    expect(started).toEqual(['a', 'b', 'c'])
    const late = join('d')
    await turn()
    await turn()
    expect(started).toEqual(['a', 'b', 'c'])
    leaves[0]!()
    leaves[0]!() // twice: still one member gone
    leaves[1]!()
    await turn()
    await turn()
    expect(started).toEqual(['a', 'b', 'c'])
    leaves[2]!()
    ;(await late)()
    expect(started).toEqual(['a', 'b', 'c', 'd'])
  })

  it('a group holds at most its maximum; the rest go in the next one', async () => {
    const groups = new PublishGroup(2)
    const order: number[] = []
    const joins = [1, 2, 3].map((i) =>
      groups.join().then((leave) => {
        order.push(i)
        return leave
      }),
    )
    const [l1, l2] = await Promise.all(joins.slice(0, 2))
    await turn()
    expect(order).toEqual([1, 2])
    l1!()
    l2!()
    ;(await joins[2]!)()
    expect(order).toEqual([1, 2, 3])
  })
})
