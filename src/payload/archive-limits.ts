/**
 * Bounds on what a payload archive may contain. The defaults fit a daemon bundle with its support
 * files many times over while keeping a hostile archive from filling the disk or memory.
 */
export interface ArchiveLimits {
  /** Entries of any kind (files, directories, links). */
  maxEntries: number
  /** Size one file may claim in its header. */
  maxEntryBytes: number
  /** Sum of all file sizes. */
  maxTotalBytes: number
  /** Uncompressed tar stream, headers and padding included: stops gzip bombs of zero blocks. */
  maxArchiveBytes: number
  /** Bytes (UTF-8) of an entry's path or a link's target. */
  maxPathBytes: number
  /** Path segments of an entry. */
  maxDepth: number
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 50_000,
  maxEntryBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 4 * 1024 * 1024 * 1024,
  maxArchiveBytes: 4 * 1024 * 1024 * 1024 + 256 * 1024 * 1024,
  maxPathBytes: 1024,
  maxDepth: 64,
})
