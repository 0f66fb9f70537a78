import {absoluteSegments, joinSegments, segmentsStartWith} from './absolute-path.js'
import {mainExecutableTarget, placeLinks, type LinkSpec, type PlacedLink} from './daemon-links.js'
import {isValidBundlePath, isValidExecutableName, isValidLabel, isValidLinkPath, isValidLinkTarget, isValidName} from './names.js'

/** Raised when a layout is asked for something that would build an unsafe path. */
export class LayoutError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'LayoutError'
  }
}

export interface PrefixLayoutOptions {
  name: string
  label: string
  /** Directory that stands in for `/` (`--root`); default `/`. */
  root?: string
  /** Where the bundle sits inside the prefix (manifest `bundle`); default `<name>.app`. */
  bundle?: string
  /** The bundle's CFBundleExecutable; default `name` until the bundle has been read. */
  executableName?: string
  /** The links esdctl maintains; default `bin/<name>` → the main executable. */
  links?: readonly LinkSpec[]
}

/** Prefix entries that belong to a version and move as a whole on upgrade, rollback and uninstall, besides the bundle's. */
const VERSION_DIRECTORIES = ['lib', 'modules', 'share'] as const

/** Where the state directory sits inside the prefix; hidden so it never collides with the daemon's own etc/ lib/ modules/ share/ var/. */
const STATE_DIR_NAME = '.esdctl'

/**
 * The one owner of every path esdctl touches for a daemon: everything under `/opt/<name>` and the
 * launchd plist. Every path property is already rebased onto `root`, i.e. it is where the tool reads
 * and writes. `system` gives the same layout as the booted target sees it (root `/`), which is what
 * goes *into* files such as the launchd plist.
 */
export class PrefixLayout {
  readonly name: string
  readonly label: string
  readonly root: string
  private readonly rootSegments: string[]
  private readonly prefixSegments: string[]

  constructor(options: PrefixLayoutOptions) {
    if (!isValidName(options.name)) {
      throw new LayoutError('layout.bad-name', `daemon name ${JSON.stringify(options.name)} is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'`)
    }
    if (!isValidLabel(options.label)) {
      throw new LayoutError('layout.bad-label', `launchd label ${JSON.stringify(options.label)} is not allowed: use reverse-DNS form such as com.example.thed (letters, digits, '_' or '-' between single dots)`)
    }
    const rootSegments = absoluteSegments(options.root ?? '/')
    if (rootSegments === undefined) {
      throw new LayoutError('layout.bad-root', `root ${JSON.stringify(options.root)} must be an absolute path without '..'`)
    }
    const bundle = options.bundle ?? `${options.name}.app`
    if (!isValidBundlePath(bundle)) {
      throw new LayoutError('layout.bad-bundle', `bundle location ${JSON.stringify(bundle)} is not allowed: use a path inside the prefix of one to three segments ending in .app (letters, digits, '.', '_', '-'), not under etc/, var/, bin/ or sbin/, e.g. ${options.name}.app or lib/${options.name}.app`)
    }
    const executableName = options.executableName ?? options.name
    if (!isValidExecutableName(executableName)) {
      throw new LayoutError('layout.bad-executable', `CFBundleExecutable ${JSON.stringify(executableName)} is not allowed: use a file name of letters, digits, ' ', '.', '_', '+' or '-' (no '/', no '..')`)
    }
    const links = options.links ?? [{path: `bin/${options.name}`, target: mainExecutableTarget(executableName)}]
    for (const link of links) {
      if (!isValidLinkPath(link.path) || !isValidLinkTarget(link.target)) {
        throw new LayoutError('layout.bad-link', `link ${JSON.stringify(link)} is not allowed: its path must be bin/<file>, sbin/<file>, /usr/local/bin/<file> or /usr/local/sbin/<file>, and its target a file inside the bundle such as Contents/MacOS/<executable>`)
      }
    }
    this.name = options.name
    this.label = options.label
    this.rootSegments = rootSegments
    this.root = joinSegments(rootSegments)
    this.prefixSegments = [...rootSegments, 'opt', options.name]
    this.bundle = bundle
    this.executableName = executableName
    this.linkSpecs = links.map((l) => ({path: l.path, target: l.target}))
    this.givenLinks = options.links
  }

  /** The links as given; undefined means the default, which follows the executable's name. */
  private readonly givenLinks: readonly LinkSpec[] | undefined

  /** Where the bundle sits inside the prefix, e.g. `thed.app` or `lib/osquery.app`. */
  readonly bundle: string
  /** The bundle's main executable's file name (CFBundleExecutable). */
  readonly executableName: string
  /** The links esdctl maintains for this daemon, as the manifest and the record write them. */
  readonly linkSpecs: readonly LinkSpec[]

  private get options(): PrefixLayoutOptions {
    // Default links are left out so that a layout `with` a new executable name links to that executable.
    return {name: this.name, label: this.label, root: this.root, bundle: this.bundle, executableName: this.executableName, ...(this.givenLinks !== undefined ? {links: this.linkSpecs} : {})}
  }

  /** The same daemon with some layout facts replaced (e.g. the executable name once the bundle was read). */
  with(changes: Partial<Omit<PrefixLayoutOptions, 'name' | 'label' | 'root'>>): PrefixLayout {
    return new PrefixLayout({...this.options, ...changes})
  }

  /**
   * The layout an install record describes (records written before `bundle` and `links` existed
   * mean the defaults). `executable` is the record's system path; its last segment is the name.
   */
  static ofRecord(record: {name: string; label: string; executable: string; bundle?: string; links?: readonly LinkSpec[]}, root = '/'): PrefixLayout {
    const executableName = record.executable.split('/').at(-1)
    return new PrefixLayout({name: record.name, label: record.label, root, ...(record.bundle !== undefined ? {bundle: record.bundle} : {}), ...(executableName ? {executableName} : {}), ...(record.links !== undefined ? {links: record.links} : {})})
  }

  /** This layout as the target system sees it once booted from `root`. */
  get system(): PrefixLayout {
    return this.root === '/' ? this : new PrefixLayout({...this.options, root: '/'})
  }

  /** The same layout under another `--root`. */
  rootedAt(root: string): PrefixLayout {
    return new PrefixLayout({...this.options, root})
  }

  /** Maps an absolute path of the target system onto `root`. */
  rebase(abs: string): string {
    const segments = absoluteSegments(abs)
    if (segments === undefined) {
      throw new LayoutError('layout.bad-path', `${JSON.stringify(abs)} must be an absolute path without '..' before it can be placed under ${this.root}`)
    }
    return joinSegments([...this.rootSegments, ...segments])
  }

  /** True when `p` (a rebased path, as the properties here return) is the prefix itself or lies under it. */
  isInsidePrefix(p: string): boolean {
    const segments = absoluteSegments(p)
    return segments !== undefined && segmentsStartWith(segments, this.prefixSegments)
  }

  private under(...segments: string[]): string {
    return joinSegments([...this.prefixSegments, ...segments])
  }

  get prefix(): string {
    return joinSegments(this.prefixSegments)
  }

  get app(): string {
    return this.under(...this.bundle.split('/'))
  }

  get contents(): string {
    return this.under(...this.bundle.split('/'), 'Contents')
  }

  /** The daemon itself: the bundle's main executable, which launchd must run directly. */
  get executable(): string {
    return this.under(...this.bundle.split('/'), 'Contents', 'MacOS', this.executableName)
  }

  get infoPlist(): string {
    return this.under(...this.bundle.split('/'), 'Contents', 'Info.plist')
  }

  get profile(): string {
    return this.under(...this.bundle.split('/'), 'Contents', 'embedded.provisionprofile')
  }

  get bin(): string {
    return this.under('bin')
  }

  get binLink(): string {
    return this.under('bin', this.name)
  }

  /** What the default link `bin/<name>` holds: relative, so the prefix can be moved or rebased without breaking it. */
  get binLinkTarget(): string {
    return `../${this.bundle}/Contents/MacOS/${this.executableName}`
  }

  /** Every link esdctl maintains, with where it is written and what it holds. */
  get links(): PlacedLink[] {
    return placeLinks(this.linkSpecs, this.system.prefix, this.bundle, (p) => this.rebase(p))
  }

  /**
   * The prefix entries one version owns and that move as a whole: the bundle's top directory (the
   * bundle itself, or osquery's `lib/`) and lib/, modules/, share/.
   */
  get versionEntries(): string[] {
    return [...new Set([this.bundle.split('/')[0]!, ...VERSION_DIRECTORIES])]
  }

  get etc(): string {
    return this.under('etc')
  }

  get lib(): string {
    return this.under('lib')
  }

  get modules(): string {
    return this.under('modules')
  }

  get share(): string {
    return this.under('share')
  }

  get var(): string {
    return this.under('var')
  }

  /** esdctl's own records; root-only (0700). */
  get stateDir(): string {
    return this.under(STATE_DIR_NAME)
  }

  /** Where payloads are unpacked and verified: inside the prefix so a rename into place never crosses volumes. */
  get staging(): string {
    return this.under(STATE_DIR_NAME, 'staging')
  }

  /** Previous bundle and plist, kept for rollback. */
  get rollbackSlot(): string {
    return this.under(STATE_DIR_NAME, 'previous')
  }

  /**
   * The config defaults the installed version shipped (its payload's etc/, byte for byte): kept so a
   * rollback to it can put them back after a newer version replaced them.
   */
  get shippedDefaults(): string {
    return this.under(STATE_DIR_NAME, 'defaults')
  }

  /** The previous version's shipped config defaults, kept in the rollback slot. */
  get slotDefaults(): string {
    return this.under(STATE_DIR_NAME, 'previous', 'defaults')
  }

  /** The previous version's receipt, kept in the rollback slot. */
  get slotReceipt(): string {
    return this.under(STATE_DIR_NAME, 'previous', 'receipt.json')
  }

  /** The previous version's launchd plist, kept in the rollback slot. */
  get slotPlist(): string {
    return this.under(STATE_DIR_NAME, 'previous', `${this.label}.plist`)
  }

  /** What is installed: versions, cdhashes, team id, profile expiry, config hashes. */
  get receipt(): string {
    return this.under(STATE_DIR_NAME, 'receipt.json')
  }

  get journal(): string {
    return this.under(STATE_DIR_NAME, 'journal.json')
  }

  get lock(): string {
    return this.under(STATE_DIR_NAME, 'lock')
  }

  get auditLog(): string {
    return this.under(STATE_DIR_NAME, 'audit.log')
  }

  get launchDaemonsDir(): string {
    return joinSegments([...this.rootSegments, 'Library', 'LaunchDaemons'])
  }

  get launchdPlist(): string {
    return joinSegments([...this.rootSegments, 'Library', 'LaunchDaemons', `${this.label}.plist`])
  }

  /** Where macOS writes crash reports of system processes (daemons run as root). */
  get diagnosticReportsDir(): string {
    return joinSegments([...this.rootSegments, 'Library', 'Logs', 'DiagnosticReports'])
  }
}

/**
 * esdctl's own machine-wide files, outside any one daemon's prefix: the registry of installed
 * daemons and the one lock every mutating run takes. Rebased onto `root` like PrefixLayout.
 */
export class ToolPaths {
  readonly root: string
  private readonly rootSegments: string[]

  constructor(root = '/') {
    const rootSegments = absoluteSegments(root)
    if (rootSegments === undefined) {
      throw new LayoutError('layout.bad-root', `root ${JSON.stringify(root)} must be an absolute path without '..'`)
    }
    this.rootSegments = rootSegments
    this.root = joinSegments(rootSegments)
  }

  get dir(): string {
    return joinSegments([...this.rootSegments, 'Library', 'Application Support', 'esdctl'])
  }

  /** Every daemon esdctl installed: name, label and prefix. */
  get registry(): string {
    return joinSegments([...this.rootSegments, 'Library', 'Application Support', 'esdctl', 'registry.json'])
  }

  get lock(): string {
    return joinSegments([...this.rootSegments, 'Library', 'Application Support', 'esdctl', 'esdctl.lock'])
  }

  /**
   * Where a package built by `esdctl payload` drops daemon `name`'s payloads, one directory per
   * version (`payloads/<name>/<version>`), for its postinstall to install from. `name` must already
   * be a valid daemon name (PrefixLayout checks it).
   */
  payloads(name: string): string {
    return joinSegments([...this.rootSegments, 'Library', 'Application Support', 'esdctl', 'payloads', name])
  }
}
