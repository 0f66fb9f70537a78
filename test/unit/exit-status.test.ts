import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {LaunchctlError} from '../../src/adapters/launchctl-error.js'
import {LockPathError} from '../../src/adapters/lock.js'
import {RootFsError} from '../../src/adapters/root-fs-error.js'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {ExitCode} from '../../src/exit-codes.js'
import {exitStatusOf, InputError} from '../../src/exit-status.js'
import {FormatError} from '../../src/formats/format-error.js'
import {LayoutError} from '../../src/layout/prefix-layout.js'
import {LifecycleError, StepFailure, TransactionUndone} from '../../src/lifecycle/lifecycle-error.js'
import {NotRegularFileError} from '../../src/io/regular-file.js'
import {RecordDamagedError} from '../../src/records/own-json.js'
import {RequirementError} from '../../src/pppc/code-requirement.js'
import {finding} from '../../src/verify/finding.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

/** Every error class a command can meet, through the one mapping to exit codes (src/exit-status.ts). */
describe('exit status: one place turns every error into an exit code', () => {
  const seal = finding('seal.modified', '/x.app', 'changed', 'rebuild')
  const cases: [string, unknown, ExitCode, RegExp][] = [
    ['LifecycleError keeps its code and details', new LifecycleError(ExitCode.locked, 'held by pid 7', ['holder pid 7']), ExitCode.locked, /held by pid 7/],
    ['StepFailure keeps its code and findings', new StepFailure(ExitCode.verificationFailed, 'verification failed', [seal]), ExitCode.verificationFailed, /verification failed/],
    ['BuildRefusal keeps its code and fix', new BuildRefusal('bundle.profile', 'p.provisionprofile', 'Entitlements', 'does not allow ES', 'Use a profile that does', ExitCode.badInput), ExitCode.badInput, /p\.provisionprofile: Entitlements: does not allow ES/],
    ['LaunchctlError is launchd failing (5), never a crash', new LaunchctlError('bootstrap', 5, 'Input/output error', ''), ExitCode.launchdFailed, /launchd could not be asked \(launchctl bootstrap/],
    ['FormatError is bad input', new FormatError('journal.malformed', 'j.json: not a journal'), ExitCode.badInput, /not a journal/],
    ['LayoutError is bad input', new LayoutError('layout.bad-root', '--root must be absolute'), ExitCode.badInput, /--root must be absolute/],
    ['RequirementError is bad input', new RequirementError('not signed with Developer ID'), ExitCode.badInput, /Developer ID/],
    ['InputError is bad input', new InputError('thed is not installed by esdctl'), ExitCode.badInput, /not installed/],
    ['RootFsError for a FIFO is bad input', new RootFsError('root-fs.unsupported-entry', '/p/lib/fifo', '/p/lib/fifo is a FIFO'), ExitCode.badInput, /FIFO/],
    ['RootFsError for a planted link is an unsafe environment', new RootFsError('root-fs.symlink', '/opt/x', '/opt/x is a symbolic link'), ExitCode.unsafeEnvironment, /symbolic link/],
    ['LockPathError is an unsafe environment', new LockPathError('/var/lock', '/var/lock is a link'), ExitCode.unsafeEnvironment, /unsafe path/],
    ['RecordDamagedError (a FormatError) is bad input', new RecordDamagedError('registry', '/r.json', 'truncated', 'Run any command as root'), ExitCode.badInput, /registry is damaged|esdctl's registry is damaged/],
    ['NotRegularFileError is bad input', new NotRegularFileError('/p/x', 'a named pipe'), ExitCode.badInput, /a named pipe, not a regular file/],
    ['TransactionUndone is rolled back (6)', new TransactionUndone('health-check', new Error('did not stay up')), ExitCode.rolledBack, /step health-check failed: did not stay up; everything it did was undone/],
    ['an unreadable path is bad input', Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {code: 'ENOENT', syscall: 'open'}), ExitCode.badInput, /ENOENT/],
    ['an unknown error is internal (1), its message kept', new TypeError('cannot read properties of undefined'), ExitCode.internalError, /internal error: cannot read properties/],
    ['a thrown non-error is internal (1)', 'boom', ExitCode.internalError, /internal error: boom/],
  ]
  for (const [what, error, code, message] of cases) {
    it(what, () => {
      const status = exitStatusOf(error)
      assert.equal(status.code, code)
      assert.match(status.message, message)
    })
  }

  it('carries what backs the status: details, findings, the fix', () => {
    assert.deepEqual(exitStatusOf(cases[0]![1]).details, ['holder pid 7'])
    assert.deepEqual(exitStatusOf(cases[1]![1]).findings, [seal])
    assert.equal(exitStatusOf(cases[2]![1]).fix, 'Use a profile that does')
  })

  it('no command maps an error class to an exit code by itself', () => {
    const offenders: string[] = []
    for (const dir of ['src/commands', 'src/cli']) {
      for (const file of readdirSync(join(REPO_ROOT, dir))) {
        const text = readFileSync(join(REPO_ROOT, dir, file), 'utf8')
        if (/instanceof (LifecycleError|LayoutError|LaunchctlError|RequirementError|FormatError)|isLifecycleError\(|e\.exitCode/.test(text)) offenders.push(`${dir}/${file}`)
      }
    }
    assert.deepEqual(offenders, [])
  })
})
