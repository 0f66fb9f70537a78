import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootFs} from '../../src/adapters/root-fs.js'
import {isFormatError} from '../../src/formats/format-error.js'
import {clearJournal, foreignJournalWriter, isForeignJournal, JOURNAL_SCHEMA_VERSION, parseJournal, readJournal, writeJournal, type ForeignJournal, type Journal} from '../../src/lifecycle/journal.js'
import {cleanupProblem, isStepKind, pathsOf, stepProblem} from '../../src/lifecycle/plan-shape.js'
import type {Cleanup, PlanStep} from '../../src/lifecycle/plan.js'

const LABEL = 'com.example.thed'
const PATH = '/var/db/esdctl/thed/journal.json'

/** One valid value of each field type a step or cleanup can hold. */
const VALID: Record<string, unknown> = {
  path: '/a/b',
  string: 'text',
  label: 'com.example.other',
  int: 0,
  bool: false,
  change: 'add',
  paths: ['/a', '/b'],
  moves: [{from: '/a/from', to: '/a/to'}],
  dirs: [{path: '/a/dir', mode: 0o755, removeOnUndo: true}],
  jobs: [{label: 'com.example.job', plist: '/a/job.plist'}, {label: 'com.example.bare'}],
  'link-states': [{path: '/a/link', text: null, dirExisted: true}, {path: '/a/link2', text: 'target', dirExisted: false}],
  'placed-links': [{path: '/a/link', systemPath: '/usr/local/bin/thed', text: '/opt/thed/x'}],
  'etc-files': [{file: 'a.conf', action: 'new'}, {file: 'sub/b.conf', action: 'replace'}, {file: 'c.conf', action: 'keep'}],
  manifest: {label: LABEL, name: 'thed'},
}

/**
 * Each step kind's fields and their types, as the journal format (plan.ts) defines them. Written out
 * again rather than imported from plan-shape.ts: a test reading that table could not notice it change.
 */
const STEPS: Record<string, Record<string, string>> = {
  move: {moves: 'moves', before: 'dirs', after: 'dirs'},
  enable: {label: 'label'},
  bootout: {label: 'label', plist: 'path', loaded: 'bool', waitMs: 'int', wait: 'bool'},
  'await-exit': {label: 'label', loaded: 'bool', waitMs: 'int'},
  'bootout-jobs': {jobs: 'jobs', waitMs: 'int'},
  bootstrap: {label: 'label', plist: 'path', enable: 'bool', waitMs: 'int'},
  'bootstrap-jobs': {jobs: 'jobs', waitMs: 'int'},
  'health-check': {manifest: 'manifest', bundle: 'string'},
  links: {before: 'link-states', after: 'placed-links'},
  config: {etcDir: 'path', stagedEtc: 'path', backupDir: 'path', files: 'etc-files'},
  'write-plist': {path: 'path', from: 'path', keep: 'path', hadPlist: 'bool'},
  'swap-plist': {path: 'path', slotPath: 'path', savedCurrent: 'path', savedSlot: 'path'},
  'remove-plist': {path: 'path', saved: 'path'},
  'write-records': {receipt: 'path', kept: 'path', from: 'path', hadInstall: 'bool', addToRegistry: 'bool'},
  registry: {change: 'change', apply: 'bool'},
}
const CLEANUPS: Record<string, Record<string, string>> = {
  'remove-tree': {path: 'path'},
  'remove-empty-dir': {path: 'path'},
  'purge-prefix': {prefix: 'path', keep: 'path'},
  'remove-created-dirs': {dirs: 'paths'},
}

/** Values each type refuses, at and beyond its bounds. */
const INVALID: Record<string, unknown[]> = {
  path: [undefined, 'relative/a', '', 5, '/a\0b', `/${'a'.repeat(4096)}`],
  string: [undefined, 5, 'x'.repeat(4097)],
  label: [undefined, 'not a label', 5],
  int: [undefined, -1, 1.5, '1', 2 ** 53],
  bool: [undefined, 'true', 0],
  change: [undefined, 'replace', true],
  paths: [undefined, '/a', ['/a', 'relative'], Array(4097).fill('/a')],
  moves: [undefined, {}, [{from: '/a'}], [{from: '/a', to: 'rel'}], [{from: 'rel', to: '/a'}], [null], Array(4097).fill({from: '/a', to: '/b'})],
  dirs: [undefined, [{path: '/a', mode: '755', removeOnUndo: true}], [{path: '/a', mode: 493}], [{path: 'rel', mode: 493, removeOnUndo: true}], [{mode: 493, removeOnUndo: true}], [[]]],
  jobs: [undefined, [{label: 'bad label'}], [{label: LABEL, plist: 'rel'}], [{plist: '/a'}], ['x']],
  'link-states': [undefined, [{path: '/a', text: 5, dirExisted: true}], [{path: '/a', text: null}], [{path: 'rel', text: null, dirExisted: true}], [{path: '/a', dirExisted: true}], [7]],
  'placed-links': [undefined, [{path: '/a', systemPath: 5, text: 'x'}], [{path: '/a', systemPath: '/s'}], [{path: 'rel', systemPath: '/s', text: 'x'}], [{systemPath: '/s', text: 'x'}], ['x']],
  'etc-files': [undefined, [{file: '../x', action: 'new'}], [{file: 'a/../../x', action: 'new'}], [{file: 'a', action: 'delete'}], [{file: 5, action: 'new'}], [{action: 'new'}], [{file: 'a'}], [null]],
  manifest: [undefined, {label: 'bad label'}, {}, 'thed', [LABEL]],
}

function validEntry(fields: Record<string, string>, base: Record<string, unknown>): Record<string, unknown> {
  return {...base, ...Object.fromEntries(Object.entries(fields).map(([field, type]) => [field, VALID[type]]))}
}
const validStep = (kind: string, id = 's1'): Record<string, unknown> => validEntry(STEPS[kind]!, {kind, id, title: `the ${kind} step`})
const validCleanup = (kind: string): Record<string, unknown> => validEntry(CLEANUPS[kind]!, {kind})

function journal(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2, esdctlVersion: '1.4.0', transaction: 'tx-1', action: 'upgrade', name: 'thed', label: LABEL, phase: 'forward',
    steps: Object.keys(STEPS).map((kind, i) => ({...validStep(kind, `s${i}`), state: 'pending'})),
    finish: Object.keys(CLEANUPS).map(validCleanup), abandon: [validCleanup('remove-tree')], afterAbandon: [],
    ...over,
  }
}
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))
/** parseJournal's refusal of `value`: a FormatError journal.malformed with exactly this message. */
function refused(value: unknown, why: string): void {
  assert.throws(() => parseJournal(bytes(value), PATH), (e: unknown) => {
    assert.ok(isFormatError(e), String(e))
    assert.equal(e.code, 'journal.malformed')
    assert.equal(e.message, `${PATH}: not an esdctl transaction journal (${why})`)
    return true
  })
}

describe('the transaction journal: what recovery accepts, what it refuses, and every step shape it checks', () => {
  it('a journal of this format with every step and cleanup kind is read back as it is', () => {
    const j = journal()
    const read = parseJournal(bytes(j), PATH)
    assert.equal(isForeignJournal(read), false)
    assert.deepEqual(read, j)
    for (const phase of ['forward', 'undoing', 'committed']) assert.equal((parseJournal(bytes(journal({phase})), PATH) as Journal).phase, phase)
    for (const state of ['pending', 'started', 'done', 'undone']) assert.equal((parseJournal(bytes(journal({steps: [{...validStep('enable'), state}]})), PATH) as Journal).steps[0]!.state, state)
  })

  it('the header: what is not an object, or lacks a field, or has an unknown phase, is refused naming it', () => {
    for (const v of [[], null, 'journal', 2]) refused(v, 'not an object')
    for (const schemaVersion of [undefined, '2', 2.5]) refused(journal({schemaVersion}), 'no schemaVersion')
    for (const key of ['transaction', 'action', 'name', 'label']) {
      refused(journal({[key]: undefined}), `${key} is missing`)
      refused(journal({[key]: 7}), `${key} is missing`)
    }
    for (const phase of [undefined, 'backward', 3]) refused(journal({phase}), 'phase is missing or unknown')
    for (const esdctlVersion of [7, '1.0 beta', '', 'v'.repeat(65)]) refused(journal({esdctlVersion}), 'esdctlVersion is not a version')
    assert.equal((parseJournal(bytes(journal({esdctlVersion: '1'.repeat(64)})), PATH) as Journal).esdctlVersion, '1'.repeat(64))
    refused(journal({esdctlVersion: undefined}), 'esdctlVersion is missing')
    for (const steps of [undefined, {}, [5], [validStep('enable'), null], Array(4097).fill({})]) refused(journal({steps}), 'steps is not a list')
  })

  it('bytes that are no JSON: journal.malformed, saying so', () => {
    assert.throws(() => parseJournal(Buffer.from('{"schemaVersion": 2,'), PATH), (e: unknown) => isFormatError(e) && e.code === 'journal.malformed' && e.message.startsWith(`${PATH}: not valid JSON (`))
  })

  it('every step is checked, not only the first', () => {
    const good = {...validStep('enable', 'e1'), state: 'done'}
    refused(journal({steps: [good, {...validStep('enable', 'e2'), state: 'gone'}]}), 'step e2 has no valid state')
    refused(journal({steps: [good, {...validStep('enable', 'e2'), label: 'bad label', state: 'done'}]}), 'step e2 (enable): label is missing or not a valid label')
    refused(journal({finish: [validCleanup('remove-tree'), {kind: 'remove-tree', path: 'rel'}]}), 'cleanup remove-tree: path is missing or not a valid path')
  })

  it('up to 4096 steps are read (each still checked); an empty plan is fine', () => {
    refused(journal({steps: Array(4096).fill({})}), 'a step has no valid id')
    assert.deepEqual((parseJournal(bytes(journal({steps: []})), PATH) as Journal).steps, [])
  })

  it('an older format with named steps, or a newer format, is foreign: kept and refused with the reason, its header intact', () => {
    const older = {schemaVersion: 1, esdctlVersion: '0.0.9', transaction: 't', action: 'upgrade', name: 'thed', label: LABEL, phase: 'undoing', steps: [{id: 'stage', state: 'done'}, {id: 'swap', state: 'started'}], data: {x: 1}}
    const read = parseJournal(bytes(older), PATH)
    assert.equal(isForeignJournal(read), true)
    assert.deepEqual(read, {...older, foreign: 'it is in journal format 1, whose steps are names whose meaning lived in the code of the esdctl that wrote it'})
    refused({...older, steps: [{id: 'stage'}, {state: 'done'}]}, 'unknown schemaVersion 1')
    refused({...older, steps: [{id: 5}]}, 'unknown schemaVersion 1')
    const newer = journal({schemaVersion: 3, steps: [{kind: 'teleport'}]})
    assert.deepEqual(parseJournal(bytes(newer), PATH), {...newer, foreign: "it is in journal format 3, newer than this esdctl's 2"})
    refused(journal({schemaVersion: 0}), 'unknown schemaVersion 0')
    refused(journal({schemaVersion: -3}), 'unknown schemaVersion -3')
  })

  it('this format naming step kinds this esdctl lacks is foreign, naming them; with a step that has no id it is damaged', () => {
    const steps = [{...validStep('enable', 'a'), state: 'done'}, {kind: 'teleport', id: 'b', state: 'pending'}, {kind: 'toString', id: 'c'}, {id: 'd'}]
    const j = journal({steps})
    assert.deepEqual(parseJournal(bytes(j), PATH), {...j, foreign: 'it names step kinds this esdctl does not have (teleport, toString, undefined)'})
    refused(journal({steps: [{kind: 'teleport', id: 'b', title: 't', state: 'pending'}, {kind: 'enable', title: 't', label: LABEL, state: 'done'}]}), 'step b has the unknown kind "teleport"')
  })

  it('each step is checked: its id, title and state', () => {
    for (const id of [undefined, '', 'Upper', 'a b', 'x'.repeat(65), 5]) refused(journal({steps: [{...validStep('enable'), id, state: 'done'}]}), 'a step has no valid id')
    assert.equal((parseJournal(bytes(journal({steps: [{...validStep('enable', 'x'.repeat(64)), state: 'done'}]})), PATH) as Journal).steps.length, 1)
    refused(journal({steps: [{...validStep('enable', 'e1'), title: undefined, state: 'done'}]}), 'step e1 has no title')
    refused(journal({steps: [{...validStep('enable', 'e1'), title: 'x'.repeat(4097), state: 'done'}]}), 'step e1 has no title')
    for (const state of [undefined, 'finished', 1]) refused(journal({steps: [{...validStep('enable', 'e1'), state}]}), 'step e1 has no valid state')
  })

  it('the cleanup lists: each must be a list of at most 64 known cleanups with their fields', () => {
    for (const k of ['finish', 'abandon', 'afterAbandon']) {
      refused(journal({[k]: undefined}), `${k} is not a list`)
      refused(journal({[k]: {kind: 'remove-tree', path: '/a'}}), `${k} is not a list`)
      refused(journal({[k]: Array(65).fill(validCleanup('remove-tree'))}), `${k} is not a list`)
      assert.equal((parseJournal(bytes(journal({[k]: Array(64).fill(validCleanup('remove-tree'))})), PATH) as unknown as Record<string, unknown[]>)[k]!.length, 64)
      refused(journal({[k]: [validCleanup('remove-tree'), {kind: 'shred', path: '/a'}]}), 'a cleanup has the unknown kind "shred"')
    }
    assert.equal(cleanupProblem(5), 'a cleanup has the unknown kind 5')
    assert.equal(cleanupProblem({kind: 7}), 'a cleanup has the unknown kind 7')
    assert.equal(cleanupProblem({kind: 'toString'}), 'a cleanup has the unknown kind "toString"')
    assert.equal(cleanupProblem({path: '/a'}), 'a cleanup has the unknown kind undefined')
    assert.equal(cleanupProblem(null), 'a cleanup has the unknown kind null')
  })

  it('every field of every step and cleanup kind is required, with its type', () => {
    for (const [kind, fields] of Object.entries(STEPS)) {
      assert.equal(stepProblem(validStep(kind)), undefined, kind)
      for (const [field, type] of Object.entries(fields)) {
        const step = validStep(kind)
        delete step[field]
        assert.equal(stepProblem(step), `step s1 (${kind}): ${field} is missing or not a valid ${type}`)
      }
    }
    for (const [kind, fields] of Object.entries(CLEANUPS)) {
      assert.equal(cleanupProblem(validCleanup(kind)), undefined, kind)
      for (const [field, type] of Object.entries(fields)) {
        const cleanup = validCleanup(kind)
        delete cleanup[field]
        assert.equal(cleanupProblem(cleanup), `cleanup ${kind}: ${field} is missing or not a valid ${type}`)
      }
    }
    assert.equal(stepProblem({id: 's1', title: 't', kind: 'warp'}), 'step s1 has the unknown kind "warp"')
    assert.equal(stepProblem({id: 's1', title: 't'}), 'step s1 has the unknown kind undefined')
  })

  it('each field type refuses values of the wrong shape, and accepts those at its bounds', () => {
    const where: Record<string, [string, string] | [string, string, 'cleanup']> = {
      path: ['write-plist', 'from'], string: ['health-check', 'bundle'], label: ['enable', 'label'], int: ['bootout', 'waitMs'], bool: ['bootout', 'wait'],
      change: ['registry', 'change'], paths: ['remove-created-dirs', 'dirs', 'cleanup'], moves: ['move', 'moves'], dirs: ['move', 'after'], jobs: ['bootout-jobs', 'jobs'],
      'link-states': ['links', 'before'], 'placed-links': ['links', 'after'], 'etc-files': ['config', 'files'], manifest: ['health-check', 'manifest'],
    }
    for (const [type, bad] of Object.entries(INVALID)) {
      const [kind, field, cleanup] = where[type]!
      const problem = (value: unknown): string | undefined => (cleanup ? cleanupProblem({...validCleanup(kind), [field]: value}) : stepProblem({...validStep(kind), [field]: value}))
      for (const value of bad) assert.equal(problem(value), `${cleanup ? 'cleanup ' : 'step s1 ('}${kind}${cleanup ? '' : ')'}: ${field} is missing or not a valid ${type}`, `${type} ${JSON.stringify(value)?.slice(0, 60)}`)
    }
    const ok = (kind: string, field: string, value: unknown): void => assert.equal(stepProblem({...validStep(kind), [field]: value}), undefined, `${kind}.${field} ${JSON.stringify(value).slice(0, 60)}`)
    ok('write-plist', 'from', `/${'a'.repeat(4095)}`)
    ok('health-check', 'bundle', 'x'.repeat(4096))
    ok('health-check', 'bundle', '')
    ok('bootout', 'waitMs', 2 ** 53 - 1)
    ok('bootout', 'wait', true)
    ok('registry', 'change', 'remove')
    ok('move', 'moves', Array(4096).fill({from: '/a', to: '/b'}))
    ok('move', 'moves', [])
    ok('bootout-jobs', 'jobs', [{label: LABEL}])
    ok('config', 'files', [{file: 'a..b.conf', action: 'keep'}])
    assert.equal(cleanupProblem({...validCleanup('remove-created-dirs'), dirs: Array(4096).fill('/a')}), undefined)
  })

  it('isStepKind knows the fifteen kinds and nothing inherited', () => {
    for (const kind of Object.keys(STEPS)) assert.equal(isStepKind(kind), true, kind)
    for (const kind of ['toString', 'constructor', 'remove-tree', '', 5, undefined]) assert.equal(isStepKind(kind), false, String(kind))
  })

  it('a kind that is only named by a list (["enable"]) is no kind: the journal is foreign, never acted on; such a cleanup is refused', () => {
    // Object.hasOwn turns a key into a string, and String(["enable"]) is "enable": only the type check keeps it out.
    assert.equal(isStepKind(['enable']), false)
    assert.equal(stepProblem({...validStep('enable', 'a'), kind: ['enable']}), 'step a has the unknown kind ["enable"]')
    const j = journal({steps: [{...validStep('enable', 'a'), kind: ['enable'], state: 'done'}]})
    assert.equal(isForeignJournal(parseJournal(bytes(j), PATH)), true)
    assert.equal(cleanupProblem({kind: ['remove-tree'], path: '/a'}), 'a cleanup has the unknown kind ["remove-tree"]')
    refused(journal({finish: [{kind: ['remove-tree'], path: '/a'}]}), 'a cleanup has the unknown kind ["remove-tree"]')
  })

  it('pathsOf names every path a step or cleanup would touch, so recovery can check them all first', () => {
    const step = (kind: string): PlanStep => validStep(kind) as unknown as PlanStep
    assert.deepEqual(pathsOf(step('move')), ['/a/from', '/a/to', '/a/dir', '/a/dir'])
    assert.deepEqual(pathsOf(step('bootout')), ['/a/b'])
    assert.deepEqual(pathsOf(step('bootout-jobs')), ['/a/job.plist'])
    assert.deepEqual(pathsOf(step('bootstrap-jobs')), ['/a/job.plist'])
    assert.deepEqual(pathsOf(step('links')), ['/a/link', '/a/link2', '/a/link'])
    assert.deepEqual(pathsOf(step('config')), ['/a/b', '/a/b', '/a/b'])
    assert.deepEqual(pathsOf({...step('swap-plist'), path: '/1', slotPath: '/2', savedCurrent: '/3', savedSlot: '/4'} as PlanStep), ['/1', '/2', '/3', '/4'])
    for (const kind of ['enable', 'await-exit', 'health-check', 'registry']) assert.deepEqual(pathsOf(step(kind)), [], kind)
    assert.deepEqual(pathsOf({kind: 'purge-prefix', prefix: '/opt/thed', keep: '/opt/thed/.esdctl'}), ['/opt/thed', '/opt/thed/.esdctl'])
    assert.deepEqual(pathsOf({kind: 'remove-created-dirs', dirs: ['/x', '/y']}), ['/x', '/y'])
    // A cleanup with a stray id is still a cleanup: its paths are the cleanup's.
    assert.deepEqual(pathsOf({kind: 'remove-tree', path: '/x', id: 'x'} as unknown as Cleanup), ['/x'])
  })

  describe('on disk', () => {
    let dir: string
    let fs: RootFs
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'esdctl-journal-m-'))
      fs = new RootFs().restrictedTo([dir])
    })
    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it('written whole, root-only (0600), one line per key; read back equal; cleared', async () => {
      const path = join(dir, 'journal.json')
      const j = journal() as unknown as Journal
      await writeJournal(fs, path, j)
      assert.equal(statSync(path).mode & 0o777, 0o600)
      assert.equal(readFileSync(path, 'utf8'), JSON.stringify(j, null, 1) + '\n')
      assert.deepEqual(await readJournal(fs, path), j)
      await clearJournal(fs, path)
      assert.equal(existsSync(path), false)
      assert.equal(await readJournal(fs, path), undefined)
    })

    it('a journal path that is not a regular file: journal.not-a-file, naming it', async () => {
      const path = join(dir, 'journal.json')
      mkdirSync(path)
      await assert.rejects(readJournal(fs, path), (e: unknown) => isFormatError(e) && e.code === 'journal.not-a-file' && e.message === `${path}: expected the transaction journal, found something that is not a regular file`)
    })

    it('a journal over 4 MiB is refused unread; one just under is read', async () => {
      const path = join(dir, 'journal.json')
      const base = JSON.stringify(journal({steps: []}))
      const padded = (size: number): string => `${base.slice(0, -1)},"pad":"${'x'.repeat(size - base.length - 9)}"}`
      writeFileSync(path, padded(4 * 1024 * 1024))
      assert.equal(readFileSync(path).length, 4 * 1024 * 1024)
      assert.ok(!isForeignJournal((await readJournal(fs, path))!))
      writeFileSync(path, padded(4 * 1024 * 1024 + 1))
      await assert.rejects(readJournal(fs, path), /more than the 4194304 allowed/)
    })
  })
})

describe('who wrote a journal this esdctl cannot act on, in the words of a refusal', () => {
  const foreign = (schemaVersion: number, esdctlVersion?: string): ForeignJournal => ({
    schemaVersion, ...(esdctlVersion !== undefined ? {esdctlVersion} : {}), transaction: 't', action: 'install', name: 'thed', label: 'com.example.thed', phase: 'forward', foreign: 'why',
  })

  it('the esdctl version it names, this one\'s own version being an earlier build of it', () => {
    assert.equal(foreignJournalWriter(foreign(JOURNAL_SCHEMA_VERSION + 1, '9.9.9'), '1.0.0'), 'esdctl 9.9.9')
    assert.equal(foreignJournalWriter(foreign(JOURNAL_SCHEMA_VERSION, '1.0.0'), '1.0.0'), 'an earlier build of esdctl 1.0.0')
  })

  it('without one, its format: above this esdctl\'s a newer one, below an earlier one, the same another one', () => {
    assert.equal(foreignJournalWriter(foreign(JOURNAL_SCHEMA_VERSION + 1), '1.0.0'), 'a newer esdctl')
    assert.equal(foreignJournalWriter(foreign(JOURNAL_SCHEMA_VERSION - 1), '1.0.0'), 'an earlier esdctl')
    assert.equal(foreignJournalWriter(foreign(JOURNAL_SCHEMA_VERSION), '1.0.0'), 'another esdctl')
  })
})
