import {stat} from 'node:fs/promises'
import {FormatError} from '../formats/format-error.js'
import {hasErrorCode} from '../io/error-code.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecord, type InstallRecord} from '../records/install-record.js'
import {isRecordDamaged} from '../records/own-json.js'
import {readRegistry, type RegistryEntry} from '../records/registry.js'

/** One daemon esdctl's registry names, with its install record or why it could not be read. */
export interface InstalledDaemon {
  entry: RegistryEntry
  layout: PrefixLayout
  record?: InstallRecord
  /** Set when the record is missing or damaged, or cannot be read without root. */
  recordProblem?: string
  /** The record is there but only root may read it (esdctl keeps its records root-only): not damage. */
  recordNeedsRoot?: boolean
  /**
   * The registry lists the daemon but its record is missing, not JSON, or lacks a field: damage
   * that `esdctl install PAYLOAD` repairs (it rebuilds or rewrites the record, repair-records.ts).
   * An I/O error or a root-only record is not damage: nothing says the install is broken.
   */
  recordDamaged?: boolean
}

export interface InstalledDaemons {
  daemons: InstalledDaemon[]
  /** Names asked for that the registry does not list. */
  notInstalled: string[]
}

/**
 * The daemons esdctl installed under `root`, from its own registry (never a disk scan, which could
 * not tell our daemons from anyone else's). `name` narrows to one. Throws FormatError only when
 * the registry itself is damaged.
 */
export async function installedDaemons(root: string, name?: string): Promise<InstalledDaemons> {
  // A mistyped --root would otherwise read as an image with nothing installed.
  if (root !== '/' && !(await stat(root).then((s) => s.isDirectory(), () => false))) {
    throw new FormatError('root.missing', `--root ${root}: no such directory; give the folder that stands for / of the image`)
  }
  const entries = await readRegistry(root)
  const wanted = name === undefined ? entries : entries.filter((e) => e.name === name)
  const daemons = await Promise.all(wanted.map((entry) => readOne(root, entry)))
  return {daemons, notInstalled: name !== undefined && wanted.length === 0 ? [name] : []}
}

async function readOne(root: string, entry: RegistryEntry): Promise<InstalledDaemon> {
  const layout = new PrefixLayout({name: entry.name, label: entry.label, root})
  try {
    const record = await readInstallRecord(layout)
    if (record === undefined) return {entry, layout, recordProblem: `no install record at ${layout.receipt}`, recordDamaged: true}
    return {entry, layout, record}
  } catch (e) {
    if (hasErrorCode(e) && (e.code === 'EACCES' || e.code === 'EPERM')) {
      return {entry, layout, recordNeedsRoot: true, recordProblem: `${layout.receipt} is readable only by root (esdctl keeps its records root-only); run the command with sudo`}
    }
    if (isRecordDamaged(e)) return {entry, layout, recordProblem: e.message, recordDamaged: true}
    // A FormatError has a code too.
    if (hasErrorCode(e)) return {entry, layout, recordProblem: e.message}
    throw e
  }
}
