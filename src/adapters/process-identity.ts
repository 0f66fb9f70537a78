/**
 * Who runs esdctl and with what environment. Mutating commands need effective uid 0; as root, node
 * must not have been told to preload code from elsewhere.
 */
export interface ProcessIdentity {
  euid(): number
  /** The admin behind sudo, for the audit log; undefined when run directly as root. */
  sudoUser(): string | undefined
  env(name: string): string | undefined
  pid(): number
}

/** Environment variables that make node load code chosen by whoever set them. */
export const CODE_LOADING_ENVIRONMENT = ['NODE_OPTIONS', 'NODE_PATH'] as const

export const realProcessIdentity: ProcessIdentity = {
  euid: () => (typeof process.geteuid === 'function' ? process.geteuid() : -1),
  sudoUser: () => {
    const user = process.env['SUDO_USER']
    return user !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(user) ? user : undefined
  },
  env: (name) => process.env[name],
  pid: () => process.pid,
}

/** The names of code-loading variables that are set (non-empty). */
export function codeLoadingVariables(identity: ProcessIdentity): string[] {
  return CODE_LOADING_ENVIRONMENT.filter((name) => (identity.env(name) ?? '') !== '')
}
