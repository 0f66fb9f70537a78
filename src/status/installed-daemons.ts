import {stat} from 'node:fs/promises'
import {FormatError} from '../formats/format-error.js'
import {hasErrorCode} from '../io/error-code.js'
import {LayoutError, PrefixLayout} from '../layout/prefix-layout.js'
import {RootFs} from '../adapters/root-fs.js'
import {readInstallRecord, type InstallRecord} from '../records/install-record.js'
import {isRecordDamaged, RecordDamagedError} from '../records/own-json.js'
import {inspectRegistry, registryRepairHint, type RegistryEntry} from '../records/registry.js'
import {registryFromReceipts} from '../records/rebuild-registry.js'

/** One daemon esdctl's registry names, with its install record or why it could not be read. */
export interface InstalledDaemon {
  entry: RegistryEntry
  /**
   * Where the install lives: the bundle location, executable name and links the install record
   * wrote (PrefixLayout.ofRecord), or, when the record cannot say, what the launchd plist's Program
   * and the links on disk give (layoutFromDisk), else the registry entry's defaults (`<name>.app`,
   * executable `<name>`, `bin/<name>`); `layoutGuess` then says so.
   */
  layout: PrefixLayout
  /** Set when `layout` is a guess (from the disk, or the registry entry's defaults), not the one the record wrote: why, in words, for the reader. */
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
 * The daemons esdctl installed under `root`, from its own registry, or when there is none, from
 * the install records under /opt/NAME/.esdctl/ as a registry rebuild would find them (never a scan
 * of bundles or plists, which could not tell our daemons from anyone else's). `name` narrows to
 * one. Throws RecordDamagedError only when the registry itself is damaged.
 */
export async function installedDaemons(root: string, name?: string): Promise<InstalledDaemons> {
  // A mistyped --root would otherwise read as an image with nothing installed.
  if (root !== '/' && !(await stat(root).then((s) => s.isDirectory(), () => false))) {
    throw new FormatError('root.missing', `--root ${root}: no such directory; give the folder that stands for / of the image`)
  }
  const registry = await inspectRegistry(root)
  if (registry.state === 'damaged') throw new RecordDamagedError('registry', registry.path, registry.problem, registryRepairHint(root))
  // A missing registry with receipts under /opt is an install whose registry was lost: every mutating
  // command finds the daemon by its receipt (lifecycle/session.ts layoutForName), so the readers must too.
  const entries = registry.state === 'ok' ? registry.value : (await registryFromReceipts(new RootFs(), root)).entries
  return installedDaemonsOf(root, entries, name)
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

/**
 * The layout to check when the record cannot say: the one the world-readable launchd plist's
 * Program and the links on disk give (layoutFromDisk, the same reading a receipt rebuild makes),
 * else the registry entry's default layout. Either way only a guess, and `why` says so.
 */
async function guessedLayout(root: string, entry: RegistryEntry, why: string): Promise<{layout: PrefixLayout; layoutGuess: string}> {
  const fallback = new PrefixLayout({name: entry.name, label: entry.label, root})
  // Loaded only here: the plist parser stays off status's start-up path (status-module-graph.test.ts).
  const {layoutFromDisk} = await import('../records/layout-from-disk.js')
  const found = await layoutFromDisk(new RootFs(), root, entry.name, entry.label, fallback.launchdPlist)
  if ('layout' in found) {
    const {layout} = found
    return {layout, layoutGuess: `${why}, so the paths checked are the ones the launchd plist ${layout.system.launchdPlist} and the links on disk give (${layout.system.app}, executable ${layout.executableName}), not a record of what was installed`}
  }
  return {layout: fallback, layoutGuess: `${why}, and the launchd plist does not say where ${entry.name} is (${found.why}), so the paths checked are the default layout (${fallback.system.app}, executable ${fallback.executableName}), which may not be where ${entry.name} was installed`}
}

async function readOne(root: string, entry: RegistryEntry): Promise<InstalledDaemon> {
  // The record sits in the prefix's state directory, which does not depend on the bundle's location.
  const receipt = new PrefixLayout({name: entry.name, label: entry.label, root}).receipt
  const guess = (why: string): Promise<{layout: PrefixLayout; layoutGuess: string}> => guessedLayout(root, entry, why)
  try {
    const record = await readInstallRecord(new PrefixLayout({name: entry.name, label: entry.label, root}))
    if (record === undefined) return {entry, ...(await guess('no install record')), recordProblem: `no install record at ${receipt}`, recordDamaged: true}
    return {entry, record, ...(await recordedLayout(entry, record, root, guess))}
  } catch (e) {
    if (hasErrorCode(e) && (e.code === 'EACCES' || e.code === 'EPERM')) {
      return {entry, ...(await guess('the install record is readable only by root')), recordNeedsRoot: true, recordProblem: `${receipt} is readable only by root (esdctl keeps its records root-only); run the command with sudo`}
    }
    if (isRecordDamaged(e)) return {entry, ...(await guess('the install record is damaged')), recordProblem: e.message, recordDamaged: true}
    // A FormatError has a code too.
    if (hasErrorCode(e)) return {entry, ...(await guess('the install record cannot be read')), recordProblem: e.message}
    throw e
  }
}

/** The layout the record wrote; a guess from disk when the record names another daemon or a layout esdctl would refuse. */
async function recordedLayout(entry: RegistryEntry, record: InstallRecord, root: string, guess: (why: string) => Promise<{layout: PrefixLayout; layoutGuess: string}>): Promise<{layout: PrefixLayout; layoutGuess?: string}> {
  if (record.name !== entry.name || record.label !== entry.label) {
    return guess(`the install record names ${record.name} (${record.label}), not the registry's ${entry.name} (${entry.label})`)
  }
  try {
    return {layout: PrefixLayout.ofRecord(record, root)}
  } catch (e) {
    if (!(e instanceof LayoutError)) throw e
    return guess(`the install record's layout is refused (${e.message})`)
  }
}
