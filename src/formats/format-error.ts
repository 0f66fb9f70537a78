/**
 * Raised by the pure format parsers when bytes do not form the structure they claim to be.
 * Parsers throw it (and only it); the verification layer catches it at its boundary and turns it
 * into a finding, so a malformed file is reported, never crashes the tool.
 */
export class FormatError extends Error {
  constructor(
    /** Stable machine-readable reason, e.g. `macho.truncated`. */
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'FormatError'
  }
}

export function isFormatError(e: unknown): e is FormatError {
  return e instanceof FormatError
}
