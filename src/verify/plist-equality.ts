import type {PlistDict} from '../formats/property-list.js'

/** Structural equality of two property-list dictionaries, independent of key order. */
export function samePlist(a: PlistDict, b: PlistDict): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical)
  if (Buffer.isBuffer(v)) return {data: v.toString('base64')}
  if (v instanceof Date) return {date: v.toISOString()}
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map(k => [k, canonical((v as Record<string, unknown>)[k])]))
  }
  return v
}
