import {strict as assert} from 'node:assert'
import {exitCodeFor} from '../../src/commands/verify.js'
import type {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleResult} from '../../src/lifecycle/context.js'
import {FINDING_CATALOGUE, type FindingId, type Severity} from '../../src/verify/finding-catalogue.js'
import type {Finding} from '../../src/verify/finding.js'
import type {VerifyReport} from '../../src/verify/report.js'

/**
 * What one esdctl run said, as a test holds it: a `verifyPath` report (its exit code is the one
 * `esdctl verify` would give it), an `install`/`upgrade` result, or a process run of the CLI with
 * `--json` (its exit code and parsed stdout).
 */
export type FindingSubject = VerifyReport | LifecycleResult | CliRun

export interface CliRun {
  exitCode: number
  /** The parsed `--json` output: a verify report, or a lifecycle command's `{rc, findings, …}`. */
  json: {findings?: Finding[]}
}

export interface ExpectedFinding {
  id: FindingId
  severity: Severity
  exitCode: ExitCode
}

const asserted = new Set<string>()

/** The ids every `expectFinding` of this mocha process has asserted so far (the suite-level check reads it). */
export function assertedFindingIds(): ReadonlySet<string> {
  return asserted
}

/** An execa result of `bin/run.js … --json` as a subject; fails naming stdout when it is not JSON. */
export function cliRun(r: {exitCode?: number | undefined; stdout: string; stderr?: string}): CliRun {
  let json: CliRun['json']
  try {
    json = JSON.parse(r.stdout) as CliRun['json']
  } catch {
    assert.fail(`the command printed no JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr ?? ''}`)
  }
  return {exitCode: r.exitCode ?? -1, json}
}

function isCliRun(s: FindingSubject): s is CliRun {
  return 'json' in s
}

function isLifecycleResult(s: FindingSubject): s is LifecycleResult {
  return 'action' in s && 'exitCode' in s
}

/**
 * Asserts that the run produced a finding `id`, with `severity` (which must also be the
 * catalogue's), and ended with `exitCode`; returns that finding for further checks. Each id
 * asserted here counts for the suite-level check that every catalogue id is produced by a test.
 */
export function expectFinding(subject: FindingSubject, expected: ExpectedFinding): Finding {
  const {findings, exitCode} = isCliRun(subject)
    ? {findings: subject.json.findings ?? [], exitCode: subject.exitCode}
    : isLifecycleResult(subject)
      ? {findings: subject.findings ?? [], exitCode: subject.exitCode}
      : {findings: subject.findings, exitCode: exitCodeFor(subject, false)}
  const found = findings.find(f => f.id === expected.id)
  assert.ok(found, `expected finding ${expected.id}; the run produced ${findings.map(f => f.id).join(', ') || 'none'}:\n${findings.map(f => `  ${f.id}: ${f.message}`).join('\n')}`)
  assert.equal(FINDING_CATALOGUE[expected.id].severity, expected.severity, `the catalogue gives ${expected.id} severity ${FINDING_CATALOGUE[expected.id].severity}`)
  assert.equal(found.severity, expected.severity, `${expected.id} came with severity ${found.severity}`)
  assert.equal(exitCode, expected.exitCode, `expected exit code ${expected.exitCode} with ${expected.id}; findings: ${findings.map(f => `${f.id} (${f.severity})`).join(', ')}`)
  asserted.add(expected.id)
  return found
}
