import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootFs} from '../../src/adapters/root-fs.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {isForeignJournal, parseJournal, readJournal, type Journal} from '../../src/lifecycle/journal.js'
import type {Plan, PlanStep} from '../../src/lifecycle/plan.js'
import {journalOf, runPlan, TransactionUndone, undoJournal, type PlanRun} from '../../src/lifecycle/run-plan.js'

const LABEL = 'com.example.thed'

describe('journaled plans', () => {
  let dir: string
  let fs: RootFs
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-journal-'))
    fs = new RootFs().restrictedTo([dir])
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const step = (id: string): PlanStep => ({kind: 'enable', id, title: `title of ${id}`, label: LABEL})

  function setup(failAt?: string): {plan: Plan; run: PlanRun; log: string[]; points: string[]; journals: Journal[]} {
    const log: string[] = []
    const points: string[] = []
    const journals: Journal[] = []
    const journalPath = join(dir, 'journal.json')
    mkdirSync(join(dir, 'work'))
    const ctx = {progress: {stepStarted: () => undefined, stepFinished: () => undefined}, faultHook: (p: string) => void points.push(p)} as unknown as LifecycleContext
    const run: PlanRun = {
      env: {ctx, fs, tool: undefined as never, layout: undefined as never},
      journalPath,
      executors: {
        enable: {
          do: async (_env, s) => {
            const j = await readJournal(fs, journalPath)
            assert.ok(j !== undefined && !isForeignJournal(j))
            journals.push(j)
            if (s.id === failAt) throw new Error(`${s.id} broke`)
            log.push(`do ${s.id}`)
          },
          undo: async (_env, s) => void log.push(`undo ${s.id}`),
        },
      },
    }
    const plan: Plan = {action: 'install', name: 'thed', label: LABEL, esdctlVersion: '0.1.0', transaction: 't1', steps: [step('a'), step('b'), step('c')], finish: [{kind: 'remove-tree', path: join(dir, 'work')}], abandon: [{kind: 'remove-tree', path: join(dir, 'work')}], afterAbandon: []}
    return {plan, run, log, points, journals}
  }

  it('journals the whole plan first, each step as started before doing it, commits, finishes and clears the journal', async () => {
    const {plan, run, log, points, journals} = setup()
    await runPlan(run, plan)
    assert.deepEqual(log, ['do a', 'do b', 'do c'])
    // The journal holds every step of the plan from the start, as data: kind, id, title and fields.
    assert.deepEqual(journals[0]!.steps.map(({state, ...s}) => s), plan.steps)
    assert.deepEqual(journals.map((j) => j.steps.map((s) => s.state)), [['started', 'pending', 'pending'], ['done', 'started', 'pending'], ['done', 'done', 'started']])
    assert.equal(journals[0]!.schemaVersion, 2)
    assert.equal(existsSync(run.journalPath), false)
    assert.equal(existsSync(join(dir, 'work')), false, 'the finish cleanup ran')
    assert.ok(points.includes('before-do:b') && points.includes('after-do:b') && points.includes('journal:committed'))
  })

  it('a failing step undoes the started ones newest first (the failed one included), abandons and clears', async () => {
    const {plan, run, log} = setup('b')
    await assert.rejects(runPlan(run, plan), (e: unknown) => e instanceof TransactionUndone && e.failedStep === 'b')
    assert.deepEqual(log, ['do a', 'undo b', 'undo a'])
    assert.equal(existsSync(run.journalPath), false)
    assert.equal(existsSync(join(dir, 'work')), false, 'the abandon cleanup ran')
  })

  it('recovery runs the executors named by the journal: steps undone or never started are skipped', async () => {
    const {plan, run, log} = setup()
    const journal = journalOf(plan)
    journal.steps[0]!.state = 'done'
    journal.steps[1]!.state = 'undone'
    await undoJournal(run, journal)
    assert.deepEqual(log, ['undo a'])
  })

  it('reads only journals it can act on: malformed ones are a FormatError, older formats and unknown kinds are foreign', () => {
    const {plan} = setup()
    const valid = (over: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({...journalOf(plan), ...over}))
    assert.throws(() => parseJournal(Buffer.from('{"schemaVersion":2}'), 'j.json'), /not an esdctl transaction journal/)
    assert.throws(() => parseJournal(Buffer.from('nope'), 'j.json'), /not valid JSON/)
    assert.throws(() => parseJournal(valid({steps: [{kind: 'move', id: 'm', title: 'm', state: 'pending', moves: [{from: 'relative', to: '/x'}], before: [], after: []}]}), 'j.json'), /step m \(move\): moves is missing or not a valid moves/)
    assert.throws(() => parseJournal(valid({finish: [{kind: 'remove-tree'}]}), 'j.json'), /cleanup remove-tree: path/)
    const older = parseJournal(Buffer.from(JSON.stringify({schemaVersion: 1, esdctlVersion: '0.0.9', transaction: 't', action: 'upgrade', name: 'thed', label: LABEL, phase: 'forward', steps: [{id: 'stage', state: 'done'}], data: {}})), 'j.json')
    assert.ok(isForeignJournal(older) && /journal format 1/.test(older.foreign))
    const unknown = parseJournal(valid({steps: [{kind: 'teleport', id: 'x', title: 'x', state: 'started'}]}), 'j.json')
    assert.ok(isForeignJournal(unknown) && /step kinds this esdctl does not have \(teleport\)/.test(unknown.foreign))
    assert.ok(!isForeignJournal(parseJournal(valid({}), 'j.json')))
  })
})
