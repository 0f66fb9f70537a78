import {strict as assert} from 'node:assert'
import {mkdir, mkdtemp, rm, symlink, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {CrashReportAdapter, MAX_REPORTS, parseCrashReport} from '../../src/adapters/crash-reports.js'
import {crashTextReport, ipsReport, type CrashFacts} from '../support/crash-report-texts.js'

const FACTS: CrashFacts = {name: 'thed', pid: 4242, path: '/opt/thed/thed.app/Contents/MacOS/thed', time: '2026-03-01 10:00:05.1234 +0000'}

describe('crash reports', () => {
  it('reads an .ips report: header line, body with exception and termination', () => {
    const r = parseCrashReport(ipsReport({...FACTS, indicator: 'Launch Constraint Violation', code: 4}), '/Library/Logs/DiagnosticReports/thed-2026-03-01-100005.ips')!
    assert.deepEqual(r, {
      file: '/Library/Logs/DiagnosticReports/thed-2026-03-01-100005.ips', format: 'ips', process: 'thed', pid: 4242, path: FACTS.path,
      time: FACTS.time, exceptionType: 'EXC_CRASH', signal: 'SIGKILL (Code Signature Invalid)', terminationNamespace: 'CODESIGNING',
      terminationCode: 4, terminationIndicator: 'Launch Constraint Violation', codeSigning: true,
    })
  })

  it('reads an .ips body cut short by the byte bound from its first fields', () => {
    const text = ipsReport(FACTS)
    const cut = text.slice(0, text.indexOf('"threads"') + 5)
    const r = parseCrashReport(cut, 'x.ips')!
    assert.deepEqual([r.pid, r.signal, r.terminationNamespace, r.codeSigning], [4242, 'SIGKILL (Code Signature Invalid)', 'CODESIGNING', true])
  })

  it('reads a .crash text report of older macOS: EXC_CRASH (Code Signature Invalid), Namespace CODESIGNING, Code 0x1', () => {
    const r = parseCrashReport(crashTextReport(FACTS), 'thed_2020-01-01.crash')!
    assert.deepEqual([r.format, r.process, r.pid, r.path, r.exceptionType, r.signal, r.terminationNamespace, r.terminationCode, r.codeSigning],
      ['crash', 'thed', 4242, FACTS.path, 'EXC_CRASH', 'Code Signature Invalid', 'CODESIGNING', 1, true])
    const later = parseCrashReport('Exception Type:    EXC_BAD_ACCESS (SIGKILL (Code Signature Invalid))\nTermination Reason:  Namespace CODESIGNING, Code 2, Invalid Page\n', 'x.crash')!
    assert.deepEqual([later.signal, later.terminationCode, later.terminationIndicator], ['SIGKILL (Code Signature Invalid)', 2, 'Invalid Page'])
  })

  it('tells an ordinary crash from a code-signing kill', () => {
    const r = parseCrashReport(ipsReport({...FACTS, exceptionType: 'EXC_BAD_ACCESS', signal: 'SIGSEGV', namespace: 'SIGNAL', code: 11, indicator: 'Segmentation fault: 11'}), 'x.ips')!
    assert.equal(r.codeSigning, false)
  })

  it('returns a report or undefined for any text, never an exception', () => {
    assert.equal(parseCrashReport('', 'x'), undefined)
    assert.equal(parseCrashReport('{"app_name":"x"', 'x'), undefined)
    fc.assert(fc.property(fc.string({maxLength: 400}), (s) => {
      parseCrashReport(s, 'x')
      parseCrashReport(`{"app_name":"a"}\n${s}`, 'x')
    }))
  })

  describe('CrashReportAdapter', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'diag-'))
    })
    afterEach(async () => {
      await rm(dir, {recursive: true, force: true})
    })
    const reader = () => new CrashReportAdapter({directory: dir, systemDirectory: '/Library/Logs/DiagnosticReports'})

    it('reads only this daemon\'s newest reports, newest first, at most MAX_REPORTS, naming them as the Mac does', async () => {
      for (let i = 0; i < MAX_REPORTS + 3; i++) {
        const file = join(dir, `thed-2026-03-01-1000${String(i).padStart(2, '0')}.ips`)
        await writeFile(file, ipsReport({...FACTS, pid: 1000 + i}))
        await utimes(file, 1_700_000_000 + i, 1_700_000_000 + i)
      }
      await writeFile(join(dir, 'thedother-2026-03-01-100000.ips'), ipsReport({...FACTS, name: 'thedother'}))
      await writeFile(join(dir, 'other-2026-03-01-100000.ips'), ipsReport({...FACTS, name: 'other'}))
      await writeFile(join(dir, 'thed-notes.txt'), 'not a report')
      const {reports, unreadable} = await reader().recent('thed')
      assert.equal(reports.length, MAX_REPORTS)
      assert.deepEqual(reports.slice(0, 2).map((r) => r.pid), [1012, 1011])
      assert.ok(reports.every((r) => r.file.startsWith('/Library/Logs/DiagnosticReports/thed-')))
      assert.deepEqual(unreadable, [])
    })

    it('reads each report only up to the byte bound, follows no symlink, and names what it could not read', async () => {
      await writeFile(join(dir, 'thed-big.ips'), ipsReport(FACTS) + ' '.repeat(100_000))
      await writeFile(join(dir, 'thed-garbage.crash'), '\0\0\0')
      await symlink('/etc/passwd', join(dir, 'thed-link.ips'))
      const {reports, unreadable} = await reader().recent('thed', {maxBytes: 4096})
      assert.deepEqual(reports.map((r) => r.pid), [4242])
      assert.deepEqual(unreadable.map((u) => u.file), ['/Library/Logs/DiagnosticReports/thed-garbage.crash'])
    })

    it('a missing directory has no reports', async () => {
      const missing = new CrashReportAdapter({directory: join(dir, 'absent'), systemDirectory: '/x'})
      assert.deepEqual(await missing.recent('thed'), {reports: [], unreadable: []})
      await mkdir(join(dir, 'thed-dir.ips'))
      assert.deepEqual((await reader().recent('thed')).reports, [])
    })
  })
})
