/**
 * The payload's `esdctl.json`, as validated by schemas/esdctl-manifest.schema.json. String values in
 * `programArguments`, `environment`, the log and working-directory keys and the health-check command
 * may hold placeholders (see placeholders.ts); they are stored unexpanded and expanded against a
 * PrefixLayout when the plist is rendered.
 */
export type KeepAlive =
  | boolean
  | {
      SuccessfulExit?: boolean
      Crashed?: boolean
      PathState?: Record<string, boolean>
      OtherJobEnabled?: Record<string, boolean>
    }

export type ProcessType = 'Background' | 'Standard' | 'Adaptive' | 'Interactive'

export const RESOURCE_LIMIT_KEYS = ['Core', 'CPU', 'Data', 'FileSize', 'MemoryLock', 'NumberOfFiles', 'NumberOfProcesses', 'ResidentSetSize', 'Stack'] as const
export type ResourceLimits = Partial<Record<(typeof RESOURCE_LIMIT_KEYS)[number], number>>

export interface HealthCheck {
  /** The daemon must have been running with a pid for this many seconds. */
  runningSeconds: number
  /** Optional probe that must exit 0; argv form, placeholders allowed. */
  command?: string[]
  timeoutSeconds?: number
}

/** A link as the manifest writes it; `target` defaults to the main executable. */
export interface ManifestLink {
  path: string
  target?: string
}

export interface Manifest {
  name: string
  label: string
  /** Where the bundle sits inside the prefix; default `<name>.app`. */
  bundle?: string
  /** The links esdctl maintains; default `[{path: 'bin/<name>'}]`. */
  links?: ManifestLink[]
  /** Labels of launchd jobs of the legacy install this daemon adopts on its first install. */
  replaces?: string[]
  bundleId: string
  teamId: string
  /** Arguments after argv[0]; argv[0] is always the executable inside the bundle. */
  programArguments?: string[]
  environment?: Record<string, string>
  KeepAlive?: KeepAlive
  RunAtLoad?: boolean
  ThrottleInterval?: number
  ExitTimeOut?: number
  ProcessType?: ProcessType
  StandardOutPath?: string
  StandardErrorPath?: string
  WorkingDirectory?: string
  UserName?: string
  GroupName?: string
  /** umask(2) value; a number, or a string of octal digits such as "022". */
  Umask?: number | string
  SoftResourceLimits?: ResourceLimits
  HardResourceLimits?: ResourceLimits
  Nice?: number
  LowPriorityIO?: boolean
  /** Config files, relative to etc/, that the admin may edit (kept on upgrade when changed). */
  config?: string[]
  healthCheck?: HealthCheck
}

/** The manifest file's conventional name at the payload's root. */
export const MANIFEST_FILE_NAME = 'esdctl.json'

/** Umask as the integer launchd expects. */
export function umaskValue(umask: number | string): number {
  return typeof umask === 'number' ? umask : Number.parseInt(umask, 8)
}

/** The layout facts a manifest gives; the executable name comes from the bundle (CFBundleExecutable) once it is read. */
export function layoutOptionsOf(m: Manifest, executableName?: string): {name: string; label: string; bundle?: string; executableName?: string; links?: {path: string; target: string}[]} {
  const exe = executableName ?? m.name
  return {
    name: m.name,
    label: m.label,
    ...(m.bundle !== undefined ? {bundle: m.bundle} : {}),
    ...(executableName !== undefined ? {executableName} : {}),
    ...(m.links !== undefined ? {links: m.links.map((l) => ({path: l.path, target: l.target ?? `Contents/MacOS/${exe}`}))} : {}),
  }
}
