import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootFs} from '../../src/adapters/root-fs.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {parseJournal, readJournal, type Journal} from '../../src/lifecycle/journal.js'
import {runTransaction, TransactionUndone, undoTransaction, type Step, type Transaction} from '../../src/lifecycle/transaction.js'

describe('journaled transactions', () => {
  let dir: string
  let fs: RootFs
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-journal-'))
    fs = new RootFs().restrictedTo([dir])
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  function setup(failAt?: string): {tx: Transaction<object>; log: string[]; points: string[]; ctx: LifecycleContext; journals: (Journal | undefined)[]} {
    const log: string[] = []
    const points: string[] = []
    const journals: (Journal | undefined)[] = []
    const journalPath = join(dir, 'journal.json')
    const step = (id: string): Step => ({
      id,
      title: id,
      do: async () => {
        journals.push(await readJournal(fs, journalPath))
        if (id === failAt) throw new Error(`${id} broke`)
        log.push(`do ${id}`)
      },
      undo: async () => void log.push(`undo ${id}`),
    })
    const ctx = {progress: {stepStarted: () => undefined, stepFinished: () => undefined}, faultHook: (p: string) => void points.push(p)} as unknown as LifecycleContext
    const journal: Journal<object> = {schemaVersion: 1, transaction: 't1', action: 'install', name: 'thed', label: 'com.example.thed', phase: 'forward', steps: [], data: {}}
    const tx: Transaction<object> = {journal, journalPath, fs, steps: [step('a'), step('b'), step('c')], finish: async () => void log.push('finish'), abandon: async () => void log.push('abandon')}
    return {tx, log, points, ctx, journals}
  }

  it('journals each step as started before doing it, commits, finishes and clears the journal', async () => {
    const {tx, log, points, ctx, journals} = setup()
    await runTransaction(ctx, tx)
    assert.deepEqual(log, ['do a', 'do b', 'do c', 'finish'])
    assert.deepEqual(journals.map((j) => j?.steps.at(-1)), [{id: 'a', state: 'started'}, {id: 'b', state: 'started'}, {id: 'c', state: 'started'}])
    assert.equal(existsSync(tx.journalPath), false)
    assert.ok(points.includes('before-do:b') && points.includes('after-do:b') && points.includes('journal:committed'))
  })

  it('a failing step undoes the started ones newest first (the failed one included), abandons and clears', async () => {
    const {tx, log, ctx} = setup('b')
    await assert.rejects(runTransaction(ctx, tx), (e: unknown) => e instanceof TransactionUndone && e.failedStep === 'b')
    assert.deepEqual(log, ['do a', 'undo b', 'undo a', 'abandon'])
    assert.equal(existsSync(tx.journalPath), false)
  })

  it('recovery skips steps already undone', async () => {
    const {tx, log, ctx} = setup()
    tx.journal.steps = [{id: 'a', state: 'done'}, {id: 'b', state: 'undone'}]
    await undoTransaction(ctx, tx)
    assert.deepEqual(log, ['undo a', 'abandon'])
  })

  it('a journal that is not one is a FormatError', () => {
    assert.throws(() => parseJournal(Buffer.from('{"schemaVersion":1}'), 'j.json'), /not an esdctl transaction journal/)
    assert.throws(() => parseJournal(Buffer.from('nope'), 'j.json'), /not valid JSON/)
  })
})
