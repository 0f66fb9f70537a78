import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {esdctlCommand} from '../render/esdctl-command.js'
import {RootFs} from '../adapters/root-fs.js'
import {hasErrorCode} from '../io/error-code.js'
import {ToolPaths, type PrefixLayout} from '../layout/prefix-layout.js'
import {productionContext, silentProgress} from '../lifecycle/context.js'
import {esdctlVersion} from '../lifecycle/esdctl-version.js'
import {foreignJournalWriter, isForeignJournal} from '../lifecycle/journal.js'
import {judgeJournal} from '../lifecycle/session.js'
import type {InstallRecord} from '../records/install-record.js'
import {failed, passed, skipped, type DoctorCheck} from './doctor-check.js'

const ASIDE = /^journal\.json\.damaged-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z(?:-\d+)?$/

/**
 * esdctl's transaction journal: present only while a lifecycle command runs, or after one was
 * interrupted (killed, power cut). Judged by judgeJournal, the very judgement the next mutating
 * command makes before it acts (session.ts), so what doctor says is what that run will do: finish
 * or undo it (a warning: the daemon may be half-changed until then), move a damaged or untrusted
 * one aside without acting on it, or refuse one this esdctl cannot act on (errors). A journal an
 * earlier run already moved aside (`journal.json.damaged-<time>`) is named too: its transaction
 * was neither undone nor finished, so until a later install repaired the daemon it may be
 * half-changed. Only reads; never repairs.
 */
export async function checkJournal(layout: PrefixLayout, record?: InstallRecord): Promise<DoctorCheck[]> {
  return [...(await pendingJournal(layout)), ...(await journalsSetAside(layout, record))]
}

async function pendingJournal(layout: PrefixLayout): Promise<DoctorCheck[]> {
  const ctx = productionContext({root: layout.root, progress: silentProgress})
  let verdict
  try {
    verdict = await judgeJournal(ctx, new RootFs(), layout, new ToolPaths(layout.root))
  } catch (e) {
    if (!hasErrorCode(e)) throw e
    return [skipped('journal', layout.journal, `the transaction journal cannot be read here (${e.code}); run doctor with sudo`)]
  }
  const repair = `\`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` with the payload you meant to install, or \`${esdctlCommand('uninstall', layout.name, layout.root)}\``
  switch (verdict.kind) {
    case 'none':
      return []
    case 'damaged':
      return [failed('journal.damaged', 'error', layout.journal, `the transaction journal is damaged or untrusted (${verdict.why}); the next esdctl command that changes ${layout.name} moves it aside (journal.json.damaged-<time>) without acting on it, so the interrupted transaction it describes is neither finished nor undone`, `Run ${repair}: either sets the journal aside and says what it finds; then check ${layout.name} again with doctor.`)]
    case 'refused': {
      const {journal} = verdict
      if (!isForeignJournal(journal)) {
        return [failed('journal.foreign', 'error', layout.journal, `the transaction journal belongs to ${journal.name} (${journal.label}), not ${layout.name} (${layout.label}); every esdctl command that changes ${layout.name} refuses until it is dealt with`, `Finish it with an esdctl command naming ${journal.name}; if it does not belong there either, move it aside and run ${repair}.`)]
      }
      const writer = foreignJournalWriter(journal, esdctlVersion())
      // Every command that changes the daemon refuses (exit 4) until that journal is dealt with: an error, not a warning.
      return [failed('journal.foreign', 'error', layout.journal, `an interrupted ${journal.action} (transaction ${journal.transaction}, phase ${journal.phase}) is pending, written by ${writer}, which this esdctl cannot finish or undo: ${journal.foreign}; until it is, every esdctl command that changes ${layout.name} refuses`, `Finish it with ${writer} (any of its commands that change ${layout.name} recovers it first); if that esdctl is gone, move the journal aside and run \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\`.`)]
    }
    case 'recover': {
      const {journal} = verdict
      const fate = journal.phase === 'committed' ? 'finished' : 'undone'
      return [failed('journal.pending', 'warning', layout.journal, `an interrupted ${journal.action} (transaction ${journal.transaction}, phase ${journal.phase}) is pending: the daemon may be half-changed until it is ${fate}, unless another esdctl run is in progress right now`, `Run any esdctl command that changes ${layout.name} as root, e.g. \`${esdctlCommand(layout.root === '/' ? 'start' : 'install', layout.root === '/' ? layout.name : 'PAYLOAD', layout.root)}\`: it ${fate === 'finished' ? 'finishes' : 'undoes'} the transaction first.`)]
    }
  }
}

/** Journals a run moved aside: a warning while no install since then has repaired the daemon (the record says when it was installed). */
async function journalsSetAside(layout: PrefixLayout, record: InstallRecord | undefined): Promise<DoctorCheck[]> {
  let names: string[]
  try {
    names = await readdir(layout.stateDir)
  } catch (e) {
    // No state directory, or one only root may list: the record check already says so.
    if (hasErrorCode(e)) return []
    throw e
  }
  const installed = record === undefined ? Number.NaN : Date.parse(record.installedAt)
  const checks: DoctorCheck[] = []
  for (const name of names.sort()) {
    const m = ASIDE.exec(name)
    if (!m) continue
    const path = join(layout.stateDir, name)
    const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0))
    const when = new Date(at).toISOString()
    if (installed > at) {
      checks.push(passed('journal.set-aside', path, `a damaged transaction journal was moved aside at ${when}; ${record!.version} was installed after that (${record!.installedAt}), so it is kept only for inspection`))
    } else {
      checks.push(failed('journal.set-aside', 'warning', path, `a damaged transaction journal was moved aside at ${when} without being acted on: the transaction it described was neither finished nor undone, and no install has repaired ${layout.name} since, so it may be half-changed`, `Check the findings above, then repair with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` (the version you want) or \`${esdctlCommand('uninstall', layout.name, layout.root)}\`; the file is kept only for inspection.`))
    }
  }
  return checks
}
