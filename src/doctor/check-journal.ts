import {esdctlCommand} from '../render/esdctl-command.js'
import {RootFs} from '../adapters/root-fs.js'
import {isFormatError} from '../formats/format-error.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {esdctlVersion} from '../lifecycle/esdctl-version.js'
import {foreignJournalWriter, isForeignJournal, readJournal} from '../lifecycle/journal.js'
import {failed, type DoctorCheck} from './doctor-check.js'

/**
 * esdctl's transaction journal: present only while a lifecycle command runs, or after one was
 * interrupted (killed, power cut). A journal found by doctor means the daemon may be half-changed
 * until the next mutating command finishes or undoes that transaction; a damaged one is refused by
 * every mutating command until it is set aside. Only reads; never repairs.
 */
export async function checkJournal(layout: PrefixLayout): Promise<DoctorCheck[]> {
  let journal
  try {
    journal = await readJournal(new RootFs(), layout.journal)
  } catch (e) {
    if (!isFormatError(e) && (e as NodeJS.ErrnoException).code !== 'EACCES') throw e
    if (!isFormatError(e)) return []
    return [failed('journal.damaged', 'error', layout.journal, `the transaction journal is damaged (${e.message}); an interrupted install, upgrade, rollback or uninstall cannot be finished or undone from it`, `Run \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` with the payload you meant to install, or \`${esdctlCommand('uninstall', layout.name, layout.root)}\`: either sets the journal aside (journal.json.damaged-<time>) and says what it finds.`)]
  }
  if (journal === undefined) return []
  if (isForeignJournal(journal)) {
    const writer = foreignJournalWriter(journal, esdctlVersion())
    // Every command that changes the daemon refuses (exit 4) until that journal is dealt with: an error, not a warning.
    return [failed('journal.foreign', 'error', layout.journal, `an interrupted ${journal.action} (transaction ${journal.transaction}, phase ${journal.phase}) is pending, written by ${writer}, which this esdctl cannot finish or undo: ${journal.foreign}; until it is, every esdctl command that changes ${layout.name} refuses`, `Finish it with ${writer} (any of its commands that change ${layout.name} recovers it first); if that esdctl is gone, move the journal aside and run \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\`.`)]
  }
  const fate = journal.phase === 'committed' ? 'finished' : 'undone'
  return [failed('journal.pending', 'warning', layout.journal, `an interrupted ${journal.action} (transaction ${journal.transaction}, phase ${journal.phase}) is pending: the daemon may be half-changed until it is ${fate}, unless another esdctl run is in progress right now`, `Run any esdctl command that changes ${layout.name} as root, e.g. \`${esdctlCommand(layout.root === '/' ? 'start' : 'install', layout.root === '/' ? layout.name : 'PAYLOAD', layout.root)}\`: it ${fate === 'finished' ? 'finishes' : 'undoes'} the transaction first.`)]
}
