import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {FINDING_CATALOGUE, isFindingId} from '../../src/verify/finding-catalogue.js'
import {finding} from '../../src/verify/finding.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

/** The man page's FINDINGS section, as `id → line` from its `.B id` / `(severity) title.` pairs. */
function manPageLines(): Map<string, string> {
  const man = readFileSync(join(REPO_ROOT, 'man', 'esdctl.1'), 'utf8').replace(/\\-/g, '-')
  const section = man.slice(man.indexOf('.SH FINDINGS'), man.indexOf('.SH EXIT STATUS'))
  const lines = section.split('\n')
  return new Map(lines.flatMap((line, i) => {
    const id = /^\.B (\S+)$/.exec(line)?.[1]
    return id ? [[id, lines[i + 1] ?? '']] : []
  }))
}

/** The man page's FINDINGS section, as `id → severity` from its `.B id` / `(severity) …` pairs. */
function manPageFindings(): Map<string, string> {
  const man = readFileSync(join(REPO_ROOT, 'man', 'esdctl.1'), 'utf8').replace(/\\-/g, '-')
  const section = man.slice(man.indexOf('.SH FINDINGS'), man.indexOf('.SH EXIT STATUS'))
  const out = new Map<string, string>()
  const lines = section.split('\n')
  lines.forEach((line, i) => {
    const id = /^\.B (\S+)$/.exec(line)?.[1]
    if (id) out.set(id, /^\((error|warning|info)\)/.exec(lines[i + 1] ?? '')?.[1] ?? '(none)')
  })
  return out
}

describe('the finding catalogue', () => {
  it('is what the man page lists, id for id and severity for severity', () => {
    const listed = manPageFindings()
    const catalogued = new Map(Object.entries(FINDING_CATALOGUE).map(([id, d]) => [id, d.severity as string]))
    assert.deepEqual([...listed].sort(), [...catalogued].sort())
  })

  it('titles each id as the man page does, and gives every default fix as a sentence to act on', () => {
    const lines = manPageLines()
    for (const [id, d] of Object.entries(FINDING_CATALOGUE)) {
      assert.equal(lines.get(id), `(${d.severity}) ${d.title}.`, id)
      if ('fix' in d) assert.match(d.fix ?? '', /^[A-Z].{10,}[.)]$/s, `${id}: ${d.fix}`)
    }
  })

  it('gives every finding its severity and default fix, and lets a check be more specific', () => {
    const f = finding('seal.added', 'a.app/Contents/x', 'a.app/Contents/x was added')
    assert.equal(f.severity, 'error')
    assert.equal(f.fix, FINDING_CATALOGUE['seal.added'].fix)
    assert.equal(finding('seal.added', 'p', 'm', 'do this').fix, 'do this')
    assert.equal(finding('profile.expired', 'p', 'm', undefined, 'ExpirationDate').field, 'ExpirationDate')
    assert.equal(finding('entitlements.verify-the-bundle', 'p', 'm').severity, 'info')
  })

  it('has stable, dotted, lower-case ids and a title for each', () => {
    for (const [id, d] of Object.entries(FINDING_CATALOGUE)) {
      assert.match(id, /^[a-z]+\.[a-z0-9-]+$/, id)
      assert.ok(d.title.length > 10, `${id} has no real title`)
      assert.ok(isFindingId(id))
    }
    assert.equal(isFindingId('seal.nonsense'), false)
    assert.equal(isFindingId('constructor'), false)
  })
})
