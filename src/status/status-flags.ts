/**
 * The one description of `esdctl status`'s command line. The oclif command builds its flags from
 * it and bin/run.js's oclif-free path parses with it, so the two cannot drift apart. Kept free of
 * imports: the fast path loads it before anything else.
 */
export const STATUS_FORMATS = ['table', 'json', 'jamf', 'munki'] as const
export type StatusFormat = (typeof STATUS_FORMATS)[number]

export type StatusFlagSpec =
  | {type: 'boolean'; description: string}
  | {type: 'string'; description: string; options?: readonly string[]; default?: string}

export const STATUS_FLAGS = {
  format: {type: 'string', description: 'output format', options: STATUS_FORMATS, default: 'table'},
  json: {type: 'boolean', description: 'same as --format json'},
  'expect-version': {type: 'string', description: 'with --format munki: the version the Munki item installs'},
  root: {type: 'string', description: 'directory standing in for / (staging images, tests)', default: '/'},
} as const satisfies Record<string, StatusFlagSpec>

export type StatusFlagName = keyof typeof STATUS_FLAGS

/** The optional positional argument. */
export const STATUS_NAME_ARG = {name: 'name', description: 'one daemon (default: every daemon esdctl installed)'} as const

/** Flag values as a parser hands them over, defaults applied. */
export type StatusFlagValues = {[K in StatusFlagName]?: string | boolean}

/** What `esdctl status` was asked to do. */
export interface StatusOptions {
  format: StatusFormat
  /** `--root`. */
  root: string
  /** One daemon; undefined means every daemon. */
  name?: string
  expectVersion?: string
}

/**
 * Flag values and NAME → options, checked against the table (types, `options`); `--json` means
 * `--format json`. Undefined when the values do not fit the table.
 */
export function statusOptions(values: StatusFlagValues, name: string | undefined): StatusOptions | undefined {
  for (const [flag, spec] of Object.entries(STATUS_FLAGS) as Array<[StatusFlagName, StatusFlagSpec]>) {
    const value = values[flag]
    if (value === undefined) continue
    if (spec.type === 'boolean' ? typeof value !== 'boolean' : typeof value !== 'string') return undefined
    if (spec.type === 'string' && spec.options !== undefined && !spec.options.includes(value as string)) return undefined
  }
  const {format, json, root, 'expect-version': expectVersion} = values as {format?: StatusFormat; json?: boolean; root?: string; 'expect-version'?: string}
  const options: StatusOptions = {format: json === true ? 'json' : (format ?? STATUS_FLAGS.format.default), root: root ?? STATUS_FLAGS.root.default}
  if (name !== undefined) options.name = name
  if (expectVersion !== undefined) options.expectVersion = expectVersion
  return options
}
