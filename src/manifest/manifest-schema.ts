import {readFileSync} from 'node:fs'
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js'

/** The schema ships beside the compiled code: dist/src/manifest/ → ../../../schemas/. */
const SCHEMA_URL = new URL('../../../schemas/esdctl-manifest.schema.json', import.meta.url)

type SchemaNode = {[key: string]: unknown}

let cached: {schema: SchemaNode; validate: ValidateFunction} | undefined

function compiled(): {schema: SchemaNode; validate: ValidateFunction} {
  if (cached === undefined) {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode
    // verbose: errors carry their parentSchema, whose description becomes the fix.
    const ajv = new Ajv2020({allErrors: true, strict: true, verbose: true})
    cached = {schema, validate: ajv.compile(schema)}
  }
  return cached
}

export function manifestSchema(): SchemaNode {
  return compiled().schema
}

/** Schema errors for `value`, or an empty list when it conforms. */
export function schemaErrors(value: unknown): ErrorObject[] {
  const {validate} = compiled()
  return validate(value) ? [] : [...(validate.errors ?? [])]
}

function isNode(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function resolveRef(node: SchemaNode, root: SchemaNode): SchemaNode {
  const ref = node['$ref']
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node
  let target: unknown = root
  for (const token of ref.slice(2).split('/')) target = isNode(target) ? target[token] : undefined
  return isNode(target) ? {...target, ...node} : node
}

/**
 * The description of the schema node that governs the value at a JSON pointer (or of its closest
 * described ancestor), used as the "what to do" of an error.
 */
export function describePointer(pointer: string): string | undefined {
  const root = manifestSchema()
  let node: SchemaNode | undefined = root
  let description = typeof root['description'] === 'string' ? root['description'] : undefined
  const tokens = pointer === '' ? [] : pointer.slice(1).split('/').map(t => t.replaceAll('~1', '/').replaceAll('~0', '~'))
  for (const token of tokens) {
    if (node === undefined) break
    node = resolveRef(node, root)
    const properties: unknown = node['properties']
    let next: unknown
    if (isNode(properties) && isNode(properties[token])) next = properties[token]
    else if (/^\d+$/.test(token) && isNode(node['items'])) next = node['items']
    else if (isNode(node['additionalProperties'])) next = node['additionalProperties']
    else if (Array.isArray(node['oneOf'])) next = node['oneOf'].map(b => (isNode(b) && isNode(b['properties']) ? b['properties'][token] : undefined)).find(isNode)
    node = isNode(next) ? resolveRef(next, root) : undefined
    if (node !== undefined && typeof node['description'] === 'string') description = node['description']
  }
  return description
}

/** Names of the properties an object schema node allows, for "did you mean" fixes. */
export function knownProperties(node: unknown): string[] {
  return isNode(node) && isNode(node['properties']) ? Object.keys(node['properties']) : []
}
