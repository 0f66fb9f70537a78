import {stat} from 'node:fs/promises'
import {FormatError} from '../formats/format-error.js'
import {hasErrorCode} from '../io/error-code.js'
import {LayoutError, PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecord, type InstallRecord} from '../records/install-record.js'
import {isRecordDamaged} from '../records/own-json.js'
import {readRegistry, type RegistryEntry} from '../records/registry.js'

/** One daemon esdctl's registry names, with its install record or why it could not be read. */
export interface InstalledDaemon {
  entry: RegistryEntry
  /**
   * Where the install lives: the bundle location, executable name and links the install record
   * wrote (PrefixLayout.ofRecord), or, when the record cannot say, the registry entry's defaults
   * (`<name>.app`, executable `<name>`, `bin/<name>`); `layoutGuess` then says so.
   */
  layout: PrefixLayout
  /** Set when `layout` is the registry entry's default layout, not the one the record wrote: why, in words, for the reader. */
  layoutGuess?: string
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
  return installedDaemonsOf(root, await readRegistry(root), name)
}

/**
 * installedDaemons for registry entries found another way (doctor, when the registry is damaged,
 * takes them from the install records under /opt: registryFromReceipts).
 */
export async function installedDaemonsOf(root: string, entries: readonly RegistryEntry[], name?: string): Promise<InstalledDaemons> {
  const wanted = name === undefined ? entries : entries.filter((e) => e.name === name)
  const daemons = await Promise.all(wanted.map((entry) => readOne(root, entry)))
  return {daemons, notInstalled: name !== undefined && wanted.length === 0 ? [name] : []}
}

async function readOne(root: string, entry: RegistryEntry): Promise<InstalledDaemon> {
  // The record sits in the prefix's state directory, which does not depend on the bundle's location.
  const fallback = new PrefixLayout({name: entry.name, label: entry.label, root})
  const guess = (why: string): string => `${why}, so the paths checked are the default layout (${fallback.system.app}, executable ${fallback.executableName}), which may not be where ${entry.name} was installed`
  try {
    const record = await readInstallRecord(fallback)
    if (record === undefined) return {entry, layout: fallback, layoutGuess: guess('no install record'), recordProblem: `no install record at ${fallback.receipt}`, recordDamaged: true}
    return {entry, record, ...recordedLayout(entry, record, root, fallback, guess)}
  } catch (e) {
    const layout = fallback
    if (hasErrorCode(e) && (e.code === 'EACCES' || e.code === 'EPERM')) {
      return {entry, layout, layoutGuess: guess('the install record is readable only by root'), recordNeedsRoot: true, recordProblem: `${layout.receipt} is readable only by root (esdctl keeps its records root-only); run the command with sudo`}
    }
    if (isRecordDamaged(e)) return {entry, layout, layoutGuess: guess('the install record is damaged'), recordProblem: e.message, recordDamaged: true}
    // A FormatError has a code too.
    if (hasErrorCode(e)) return {entry, layout, layoutGuess: guess('the install record cannot be read'), recordProblem: e.message}
    throw e
  }
}

/** The layout the record wrote; the registry's default when the record names another daemon or a layout esdctl would refuse. */
function recordedLayout(entry: RegistryEntry, record: InstallRecord, root: string, fallback: PrefixLayout, guess: (why: string) => string): {layout: PrefixLayout; layoutGuess?: string} {
  if (record.name !== entry.name || record.label !== entry.label) {
    return {layout: fallback, layoutGuess: guess(`the install record names ${record.name} (${record.label}), not the registry's ${entry.name} (${entry.label})`)}
  }
  try {
    return {layout: PrefixLayout.ofRecord(record, root)}
  } catch (e) {
    if (!(e instanceof LayoutError)) throw e
    return {layout: fallback, layoutGuess: guess(`the install record's layout is refused (${e.message})`)}
  }
}
