import {closeSync, constants, openSync} from 'node:fs'
import {pino} from 'pino'

/** One line per transaction: who ran it, what it did, which versions, how it ended. */
export interface AuditEntry {
  transaction: string
  action: string
  name: string
  label?: string
  /** SUDO_USER, or undefined when run directly as root. */
  who?: string
  uid: number
  fromVersion?: string
  toVersion?: string
  outcome: string
  exitCode: number
  message: string
  recovered?: string
  dryRun?: boolean
}

export interface AuditLog {
  /** Appends one JSON line to `path` (the daemon's `layout.auditLog`). */
  record(path: string, entry: AuditEntry): Promise<void>
}

/**
 * pino JSON lines, appended through a descriptor opened without following links (0600), written
 * synchronously so the line is on disk before the command reports its result.
 */
export class PinoAuditLog implements AuditLog {
  async record(path: string, entry: AuditEntry): Promise<void> {
    const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
    try {
      const destination = pino.destination({dest: fd, sync: true})
      const logger = pino({base: {pid: process.pid}, timestamp: pino.stdTimeFunctions.isoTime}, destination)
      logger.info(entry, `${entry.action} ${entry.name}: ${entry.outcome}`)
      destination.flushSync()
    } finally {
      closeSync(fd)
    }
  }
}
