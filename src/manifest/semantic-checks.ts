import {absoluteSegments, segmentsStartWith} from '../layout/absolute-path.js'
import {RESERVED_PREFIX_ENTRIES} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {layoutOptionsOf, type Manifest} from './manifest.js'
import {manifestError, pointerToken, type ManifestError} from './manifest-error.js'
import {expandPlaceholders, PLACEHOLDERS} from './placeholders.js'

/** Every templated string in a manifest, with its JSON pointer. */
function templatedStrings(m: Manifest): {field: string; value: string}[] {
  const out: {field: string; value: string}[] = []
  m.programArguments?.forEach((value, i) => out.push({field: `/programArguments/${i}`, value}))
  for (const [key, value] of Object.entries(m.environment ?? {})) out.push({field: `/environment/${pointerToken(key)}`, value})
  for (const key of ['StandardOutPath', 'StandardErrorPath', 'WorkingDirectory'] as const) {
    const value = m[key]
    if (value !== undefined) out.push({field: `/${key}`, value})
  }
  m.healthCheck?.command?.forEach((value, i) => out.push({field: `/healthCheck/command/${i}`, value}))
  return out
}

function isUnder(p: string, dir: string): boolean {
  const inner = absoluteSegments(p)
  const outer = absoluteSegments(dir)
  return inner !== undefined && outer !== undefined && segmentsStartWith(inner, outer)
}

/**
 * Checks the schema cannot express: placeholders exist, log files stay inside the prefix (and out
 * of the signed bundle and esdctl's own records), the working directory is a clean absolute path.
 */
export function semanticErrors(file: string, m: Manifest): ManifestError[] {
  const errors: ManifestError[] = [...layoutErrors(file, m)]
  if (errors.length > 0) return errors
  const layout = new PrefixLayout(layoutOptionsOf(m))
  const expanded = new Map<string, string>()
  for (const {field, value} of templatedStrings(m)) {
    const result = expandPlaceholders(value, layout)
    if ('error' in result) {
      errors.push(manifestError(file, field, result.error, `Use only ${PLACEHOLDERS.map(p => `{${p}}`).join(' ')}, or double a brace to write it literally.`))
    } else {
      expanded.set(field, result.value)
    }
  }
  for (const key of ['StandardOutPath', 'StandardErrorPath'] as const) {
    const value = expanded.get(`/${key}`)
    if (value === undefined) continue
    const field = `/${key}`
    const fix = `Point it at a file under the prefix, e.g. "{var}/log/${m.name}.log" (${layout.var}/log/${m.name}.log).`
    if (absoluteSegments(value) === undefined) {
      errors.push(manifestError(file, field, `${JSON.stringify(value)} is not an absolute path without '..'`, fix))
    } else if (!layout.isInsidePrefix(value) || absoluteSegments(value)!.length === absoluteSegments(layout.prefix)!.length) {
      errors.push(manifestError(file, field, `${JSON.stringify(value)} lies outside ${layout.prefix}; esdctl only manages files inside the prefix`, fix))
    } else if (isUnder(value, layout.app)) {
      errors.push(manifestError(file, field, `${JSON.stringify(value)} lies inside the signed bundle ${layout.app}; writing there would break its code signature`, fix))
    } else if (isUnder(value, layout.stateDir)) {
      errors.push(manifestError(file, field, `${JSON.stringify(value)} lies inside esdctl's own records (${layout.stateDir})`, fix))
    }
  }
  const workingDirectory = expanded.get('/WorkingDirectory')
  if (workingDirectory !== undefined && absoluteSegments(workingDirectory) === undefined) {
    errors.push(manifestError(file, '/WorkingDirectory', `${JSON.stringify(workingDirectory)} is not an absolute path without '..'`, 'Use an absolute path such as "{var}" or "/".'))
  }
  // dyld's variables load code into the process before main(): a root daemon is no place for them.
  for (const key of Object.keys(m.environment ?? {})) {
    if (key.toUpperCase().startsWith('DYLD_')) {
      errors.push(manifestError(file, `/environment/${pointerToken(key)}`, `${key} would make the dynamic loader change what code a root daemon loads; the hardened runtime ignores it anyway, so it only hides an injection path`, 'Remove it; link the libraries the daemon needs, or ship them in the bundle (Contents/Frameworks) and sign them.'))
    }
  }
  // The probe runs as root: a bare name would be looked up on whatever PATH esdctl was started with.
  const probe = expanded.get('/healthCheck/command/0')
  if (probe !== undefined && absoluteSegments(probe) === undefined) {
    errors.push(manifestError(file, '/healthCheck/command/0', `${JSON.stringify(probe)} is not an absolute path without '..'; esdctl runs the probe as root and never looks a program up on a PATH`, 'Name the probe by its full path, e.g. "{executable}", "{bin}/<tool>" or "/usr/bin/true".'))
  }
  return errors
}

/** Where the bundle and the links go: what a pattern cannot say. */
function layoutErrors(file: string, m: Manifest): ManifestError[] {
  const errors: ManifestError[] = []
  const bundle = m.bundle
  if (bundle !== undefined && bundle.includes('/')) {
    const first = bundle.split('/')[0]!
    if ((RESERVED_PREFIX_ENTRIES as readonly string[]).includes(first.toLowerCase())) {
      errors.push(manifestError(file, '/bundle', `${JSON.stringify(bundle)} lies under ${first}/, which holds ${first === 'etc' || first === 'var' ? "the admin's state" : "esdctl's links"}, not a version of the daemon`, `Put the bundle at ${m.name}.app or under lib/, e.g. lib/${m.name}.app.`))
    }
  }
  const seen = new Map<string, number>()
  m.links?.forEach((link, i) => {
    // APFS is case-insensitive by default: bin/Foo and bin/foo are one file.
    const key = link.path.toLowerCase()
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      errors.push(manifestError(file, `/links/${i}/path`, `${JSON.stringify(link.path)} is the same file as /links/${earlier}/path on a case-insensitive volume`, 'Give every link its own path.'))
    }
    seen.set(key, i)
  })
  return errors
}
