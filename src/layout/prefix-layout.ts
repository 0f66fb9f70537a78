import {absoluteSegments, joinSegments, segmentsStartWith} from './absolute-path.js'
import {isValidLabel, isValidName} from './names.js'

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
}

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
    this.name = options.name
    this.label = options.label
    this.rootSegments = rootSegments
    this.root = joinSegments(rootSegments)
    this.prefixSegments = [...rootSegments, 'opt', options.name]
  }

  /** This layout as the target system sees it once booted from `root`. */
  get system(): PrefixLayout {
    return this.root === '/' ? this : new PrefixLayout({name: this.name, label: this.label})
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
    return this.under(`${this.name}.app`)
  }

  get contents(): string {
    return this.under(`${this.name}.app`, 'Contents')
  }

  /** The daemon itself: the bundle's main executable, which launchd must run directly. */
  get executable(): string {
    return this.under(`${this.name}.app`, 'Contents', 'MacOS', this.name)
  }

  get infoPlist(): string {
    return this.under(`${this.name}.app`, 'Contents', 'Info.plist')
  }

  get profile(): string {
    return this.under(`${this.name}.app`, 'Contents', 'embedded.provisionprofile')
  }

  get bin(): string {
    return this.under('bin')
  }

  get binLink(): string {
    return this.under('bin', this.name)
  }

  /** What `binLink` points to, relative so the prefix can be moved or rebased without breaking it. */
  get binLinkTarget(): string {
    return `../${this.name}.app/Contents/MacOS/${this.name}`
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
}
