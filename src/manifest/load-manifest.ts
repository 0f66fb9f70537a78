import {open} from 'node:fs/promises'
import type {Manifest} from './manifest.js'
import {manifestError, type ManifestError} from './manifest-error.js'
import {schemaErrors} from './manifest-schema.js'
import {translateSchemaErrors} from './schema-error-translation.js'
import {semanticErrors} from './semantic-checks.js'
import {plistRuleErrors} from './plist-rule-errors.js'

/** A manifest is a few kilobytes; anything beyond this is not one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024

export type ManifestResult = {manifest: Manifest} | {errors: ManifestError[]}

/** Validates an already-parsed manifest; `file` names it in messages. */
export function validateManifest(value: unknown, file: string): ManifestResult {
  const structural = schemaErrors(value)
  if (structural.length > 0) return {errors: translateSchemaErrors(file, structural)}
  const manifest = value as Manifest
  const semantic = semanticErrors(file, manifest)
  if (semantic.length > 0) return {errors: semantic}
  // Whatever doctor would call an error in the installed plist is refused here, before anything changes.
  const plist = plistRuleErrors(file, manifest)
  return plist.length > 0 ? {errors: plist} : {manifest}
}

async function readBounded(path: string): Promise<{text: string} | {error: ManifestError}> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error'
    return {error: manifestError(path, '', `cannot be read (${code})`, 'Put an esdctl.json manifest at the root of the payload, readable by root.')}
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) return {error: manifestError(path, '', 'is not a regular file', 'Make esdctl.json a plain file.')}
    if (stat.size > MAX_MANIFEST_BYTES) {
      return {error: manifestError(path, '', `is ${stat.size} bytes, more than the ${MAX_MANIFEST_BYTES}-byte limit for a manifest`, 'Check that this is the right file; a manifest is a small JSON document.')}
    }
    // Read at most one byte past the limit so a file that grows after the stat is still caught.
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1)
    const {bytesRead} = await handle.read(buf, 0, buf.length, 0)
    if (bytesRead > MAX_MANIFEST_BYTES) {
      return {error: manifestError(path, '', `is larger than the ${MAX_MANIFEST_BYTES}-byte limit for a manifest`, 'Check that this is the right file.')}
    }
    return {text: buf.toString('utf8', 0, bytesRead)}
  } finally {
    await handle.close()
  }
}

/** Reads, parses and validates `esdctl.json`; never throws for a bad or missing file. */
export async function loadManifest(path: string): Promise<ManifestResult> {
  const read = await readBounded(path)
  if ('error' in read) return {errors: [read.error]}
  let value: unknown
  try {
    value = JSON.parse(read.text.replace(/^\uFEFF/, ''))
  } catch (e) {
    return {errors: [manifestError(path, '', `is not valid JSON (${(e as Error).message})`, 'Fix the JSON syntax; a JSON linter or `python3 -m json.tool` shows where.')]}
  }
  return validateManifest(value, path)
}
