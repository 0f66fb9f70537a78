import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {formatLogEntry, parseLogLine, predicateString, UnifiedLogAdapter, UnifiedLogError} from '../../src/adapters/unified-log.js'
import {processEntry, createFakeLog, type FakeLog} from '../doubles/log/fake-log.js'

describe('unified log adapter', function () {
  this.timeout(30_000)
  let fake: FakeLog | undefined
  afterEach(() => {
    fake?.remove()
    fake = undefined
  })

  it('runs log show with ndjson, --last and the predicate, and reads the entries', async () => {
    fake = createFakeLog([processEntry('amfid', 'first'), processEntry('kernel', 'AMFI: second'), processEntry('taskgated-helper', 'not asked for')])
    const log = new UnifiedLogAdapter({executable: fake.logPath})
    const entries = await log.show({predicate: 'process == "amfid" OR process == "kernel"', lastMinutes: 12.7})
    assert.deepEqual(fake.calls(), [['show', '--style', 'ndjson', '--last', '12m', '--predicate', 'process == "amfid" OR process == "kernel"']])
    assert.deepEqual(entries.map((e) => [e.process, e.pid, e.message]), [['amfid', 312, 'first'], ['kernel', 0, 'AMFI: second']])
    assert.equal(formatLogEntry(entries[0]!), '2026-03-01 10:00:00.123456+0000 amfid[312]: first')
  })

  it('keeps only the newest entries beyond maxEntries', async () => {
    fake = createFakeLog([1, 2, 3, 4].map((i) => processEntry('amfid', `m${i}`)))
    const entries = await new UnifiedLogAdapter({executable: fake.logPath}).show({predicate: 'process == "amfid"', lastMinutes: 5, maxEntries: 2})
    assert.deepEqual(entries.map((e) => e.message), ['m3', 'm4'])
  })

  it('throws UnifiedLogError when log fails or is missing', async () => {
    fake = createFakeLog([], {exitCode: 1})
    await assert.rejects(new UnifiedLogAdapter({executable: fake.logPath}).show({predicate: 'x', lastMinutes: 1}), (e: unknown) => e instanceof UnifiedLogError && /Could not open log archive/.test(e.message))
    await assert.rejects(new UnifiedLogAdapter({executable: '/nonexistent/log'}).show({predicate: 'x', lastMinutes: 1}), UnifiedLogError)
  })

  it('streams entries until aborted', async () => {
    fake = createFakeLog([processEntry('amfid', 'live one'), processEntry('amfid', 'live two')])
    const seen: string[] = []
    const abort = new AbortController()
    const done = new UnifiedLogAdapter({executable: fake.logPath}).stream({
      predicate: 'process == "amfid"', signal: abort.signal,
      onEntry: (e) => {
        seen.push(e.message)
        if (seen.length === 2) abort.abort()
      },
    })
    await done
    assert.deepEqual(seen, ['live one', 'live two'])
    assert.equal(fake.calls()[0]![0], 'stream')
  })

  it('parses any line to an entry or undefined, never an exception', () => {
    assert.equal(parseLogLine('Filtering the log data using "process == \\"x\\""'), undefined)
    assert.equal(parseLogLine('{"count":3,"finished":1}'), undefined)
    assert.equal(parseLogLine('{"timestamp":"t","eventMessage":"m"}')?.process, 'unknown')
    fc.assert(fc.property(fc.string({maxLength: 300}), (s) => {
      const e = parseLogLine(s)
      assert.ok(e === undefined || typeof e.message === 'string')
    }))
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      parseLogLine(JSON.stringify(v))
    }))
  })

  it('quotes predicate strings', () => {
    assert.equal(predicateString('a"b\\c'), '"a\\"b\\\\c"')
  })
})
