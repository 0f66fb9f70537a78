import type {ErrorObject} from 'ajv/dist/2020.js'
import {describePointer, knownProperties} from './manifest-schema.js'
import {manifestError, pointerToken, type ManifestError} from './manifest-error.js'

function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number'
  return `a ${typeof value}`
}

/** JSON of `value`, cut at about `budget` characters; bounded in depth too, since a hostile manifest nests arrays 100 000 deep and JSON.stringify would overflow the stack. */
function preview(value: unknown, budget: number, depth = 0): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? String(value)
  if (depth >= 8 || budget <= 2) return Array.isArray(value) ? '[...]' : '{...}'
  const parts: string[] = []
  let used = 2
  const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value)
  for (const [key, child] of entries) {
    if (used >= budget) {
      parts.push('...')
      break
    }
    const part = (Array.isArray(value) ? '' : `${JSON.stringify(key)}:`) + preview(child, budget - used, depth + 1)
    parts.push(part)
    used += part.length + 1
  }
  return Array.isArray(value) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`
}

function shown(value: unknown): string {
  const text = preview(value, 80)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function fixFromSchema(field: string, fallback: string): string {
  const description = describePointer(field)
  return description === undefined ? fallback : `${fallback} ${description}`
}

/**
 * oneOf/anyOf failures come with one error per rejected branch. When the value has the type of one
 * branch and fails inside it, that branch's errors are the useful ones; otherwise a person needs to
 * hear once that the value has none of the allowed forms, not why each branch rejected it.
 */
function withoutBranchNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>()
  for (const alternative of errors.filter(e => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    const branchErrors = errors.filter(e => e !== alternative && e.schemaPath.startsWith(`${alternative.schemaPath}/`))
    const typeMismatches = branchErrors.filter(e => e.keyword === 'type' && e.instancePath === alternative.instancePath)
    if (typeMismatches.length < branchErrors.length) {
      drop.add(alternative)
      for (const e of typeMismatches) drop.add(e)
    } else {
      for (const e of branchErrors) drop.add(e)
    }
  }
  return errors.filter(e => !drop.has(e))
}

function translate(file: string, e: ErrorObject): ManifestError {
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required': {
      const missing = String(params['missingProperty'])
      const field = `${e.instancePath}/${pointerToken(missing)}`
      return manifestError(file, field, `required field "${missing}" is missing`, fixFromSchema(field, `Add "${missing}".`))
    }
    case 'additionalProperties': {
      const extra = String(params['additionalProperty'])
      const field = `${e.instancePath}/${pointerToken(extra)}`
      const known = knownProperties(e.parentSchema)
      const hint = known.length > 0 ? ` Known fields here: ${known.join(', ')}.` : ''
      return manifestError(file, field, `unknown field "${extra}"`, `Remove it or correct its spelling (names are case-sensitive).${hint}`)
    }
    case 'type':
      return manifestError(file, e.instancePath, `must be ${String(params['type'])}, found ${jsonType(e.data)}`, fixFromSchema(e.instancePath, `Give it the right type.`))
    case 'enum':
      return manifestError(file, e.instancePath, `${shown(e.data)} is not one of ${(params['allowedValues'] as unknown[]).map(v => JSON.stringify(v)).join(', ')}`, 'Use one of the listed values (case-sensitive).')
    case 'pattern':
    case 'not': {
      if (typeof params['propertyName'] === 'string' || e.propertyName !== undefined) {
        const key = String(params['propertyName'] ?? e.propertyName)
        const field = `${e.instancePath}/${pointerToken(key)}`
        return manifestError(file, field, `the name "${key}" is not allowed`, fixFromSchema(e.instancePath, 'Rename it.'))
      }
      const allowed = describePointer(e.instancePath)
      return allowed === undefined
        ? manifestError(file, e.instancePath, `${shown(e.data)} is not allowed`, 'Change it.')
        : manifestError(file, e.instancePath, `${shown(e.data)} is not allowed; allowed: ${allowed}`, 'Change it to a value of the allowed form.')
    }
    case 'oneOf':
    case 'anyOf':
      return manifestError(file, e.instancePath, `${shown(e.data)} has none of the allowed forms`, fixFromSchema(e.instancePath, 'Change it.'))
    default:
      return manifestError(file, e.instancePath, `${shown(e.data)}: ${e.message ?? 'is not valid'}`, fixFromSchema(e.instancePath, 'Change it.'))
  }
}

export function translateSchemaErrors(file: string, errors: readonly ErrorObject[]): ManifestError[] {
  const kept = withoutBranchNoise(errors).filter(e => e.keyword !== 'propertyNames')
  const seen = new Set<string>()
  const out: ManifestError[] = []
  for (const e of kept) {
    const error = translate(file, e)
    if (seen.has(error.message)) continue
    seen.add(error.message)
    out.push(error)
  }
  return out
}
