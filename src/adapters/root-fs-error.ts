/** A refused or failed filesystem operation of RootFs; `code` is stable for callers and tests. */
export class RootFsError extends Error {
  constructor(
    readonly code: 'root-fs.outside-allowed' | 'root-fs.symlink' | 'root-fs.not-a-directory' | 'root-fs.unsupported-entry' | 'root-fs.too-large',
    readonly path: string,
    message: string,
  ) {
    super(message)
    this.name = 'RootFsError'
  }
}

export function isRootFsError(e: unknown): e is RootFsError {
  return e instanceof RootFsError
}
