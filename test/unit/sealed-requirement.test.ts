import {strict as assert} from 'node:assert'
import {judgeSealedRequirement, type NestedIdentity} from '../../src/verify/sealed-requirement.js'

const DEV_ID: NestedIdentity = {
  identifier: 'com.example.kit',
  cdhashes: ['aa'.repeat(20)],
  leafTeam: 'ESDTEST001',
  leafOids: ['1.2.840.113635.100.6.1.13'],
  trusted: true,
  appleSigned: false,
}
const DR = 'identifier "com.example.kit" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ESDTEST001'

describe('the requirement a parent seals for nested code', () => {
  it('a Developer ID designated requirement is met by the code it was made for', () => {
    assert.deepEqual(judgeSealedRequirement(DR, DEV_ID), {evaluated: true, unmet: []})
  })

  it('names each unmet clause: identifier, team, leaf marker, trust', () => {
    const other: NestedIdentity = {...DEV_ID, identifier: 'com.example.other', leafTeam: 'OTHERTEAM9', leafOids: [], trusted: false}
    const v = judgeSealedRequirement(DR, other)
    assert.ok(v.evaluated)
    assert.deepEqual(v.unmet, [
      'identifier "com.example.kit"',
      'anchor apple generic',
      'certificate 1[field.1.2.840.113635.100.6.2.6]',
      'certificate leaf[field.1.2.840.113635.100.6.1.13]',
      'certificate leaf[subject.OU] = ESDTEST001',
    ])
  })

  it('cdhash and anchor apple (Apple-signed code only)', () => {
    assert.deepEqual(judgeSealedRequirement(`cdhash H"${'AA'.repeat(20)}"`, DEV_ID), {evaluated: true, unmet: []})
    assert.deepEqual(judgeSealedRequirement(`cdhash H"${'bb'.repeat(20)}"`, DEV_ID), {evaluated: true, unmet: [`cdhash H"${'bb'.repeat(20)}"`]})
    assert.deepEqual(judgeSealedRequirement('identifier "com.apple.x" and anchor apple', {...DEV_ID, identifier: 'com.apple.x'}), {evaluated: true, unmet: ['anchor apple']})
    assert.deepEqual(judgeSealedRequirement('identifier "com.apple.x" and anchor apple', {...DEV_ID, identifier: 'com.apple.x', appleSigned: true}), {evaluated: true, unmet: []})
  })

  it('leaves forms it does not evaluate unjudged rather than guessing', () => {
    for (const text of ['identifier a or identifier b', '(identifier a) and anchor apple generic', 'info[CFBundleVersion] = "1"', '!identifier a', 'x'.repeat(5000)]) {
      assert.deepEqual(judgeSealedRequirement(text, DEV_ID), {evaluated: false}, text.slice(0, 40))
    }
  })
})
