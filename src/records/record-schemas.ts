import {isValidBundlePath, isValidLabel, isValidLinkPath, isValidLinkTarget, isValidName} from '../layout/names.js'

/**
 * The shapes of esdctl's own records, checked on every read. Hand-written rather than ajv on
 * purpose: `esdctl status` reads these on a fleet tool's schedule and must not load a schema
 * compiler at start-up (test/unit/status-module-graph.test.ts). Every field a reader relies on is
 * checked, optional ones too when present; unknown extra keys are allowed so a newer esdctl's
 * optional additions do not make an older one call the record damaged (a real change of shape
 * bumps schemaVersion instead).
 */
type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isString(v: unknown): v is string {
  return typeof v === 'string'
}

const SHA256_HEX = /^[0-9a-f]{64}$/

/** First problem among optional string fields that are present but not strings. */
function optionalStrings(r: Json, keys: readonly string[], prefix = ''): string | undefined {
  const bad = keys.find((k) => r[k] !== undefined && !isString(r[k]))
  return bad === undefined ? undefined : `${prefix}${bad} is not a string`
}

function shapeProblem(r: Json): string | undefined {
  if (!isValidName(r['name'])) return 'name is missing or invalid'
  if (!isValidLabel(r['label'])) return 'label is missing or invalid'
  for (const key of ['bundleId', 'teamId', 'version', 'installedAt', 'plistPath', 'executable']) {
    if (!isString(r[key])) return `${key} is missing or not a string`
  }
  for (const key of ['plistPath', 'executable']) if (!(r[key] as string).startsWith('/')) return `${key} is not an absolute path`
  return optionalStrings(r, ['build', 'installedBy', 'designatedRequirement', 'rebuiltAt'])
}

function nestedProblem(r: Json): string | undefined {
  const cdhashes = r['cdhashes']
  if (!Array.isArray(cdhashes) || !cdhashes.every((c) => isObject(c) && isString(c['arch']) && isString(c['cdhash']))) return 'cdhashes is not a list of {arch, cdhash}'
  const signer = r['signer']
  if (!isObject(signer) || !isString(signer['kind'])) return 'signer.kind is missing'
  const signerProblem = optionalStrings(signer, ['commonName', 'leafSha256'], 'signer.')
  if (signerProblem) return signerProblem
  if (r['plistSha256'] !== undefined && !(isString(r['plistSha256']) && SHA256_HEX.test(r['plistSha256']))) return 'plistSha256 is not a SHA-256 hex string'
  const config = r['configHashes']
  if (!isObject(config) || !Object.values(config).every((h) => isString(h) && SHA256_HEX.test(h))) return 'configHashes is not a map of SHA-256 hex strings'
  const profile = r['profile']
  if (profile !== undefined && !(isObject(profile) && ['uuid', 'name', 'expires', 'kind'].every((k) => isString(profile[k])))) return 'profile is not {uuid, name, expires, kind}'
  const health = r['healthCheck']
  if (health !== undefined) {
    if (!isObject(health) || typeof health['runningSeconds'] !== 'number' || !(health['runningSeconds'] >= 0)) return 'healthCheck.runningSeconds is not a number ≥ 0'
    const command = health['command']
    if (command !== undefined && !(Array.isArray(command) && command.every(isString))) return 'healthCheck.command is not a list of strings'
  }
  const previous = r['previous']
  if (previous !== undefined && !(isObject(previous) && isString(previous['version']) && (previous['build'] === undefined || isString(previous['build'])))) return 'previous is not {version, build?}'
  if (r['bundle'] !== undefined && !isValidBundlePath(r['bundle'])) return 'bundle is not a path inside the prefix ending in .app'
  const links = r['links']
  if (links !== undefined && !(Array.isArray(links) && links.every((l) => isObject(l) && isValidLinkPath(l['path']) && isValidLinkTarget(l['target'])))) {
    return 'links is not a list of {path, target} inside the allowed places'
  }
  const adopted = r['adopted']
  const isSlotPath = (p: unknown): boolean => isString(p) && p.length > 0 && !p.startsWith('/') && !p.split('/').some((part) => part === '' || part === '.' || part === '..')
  if (adopted !== undefined && !(isObject(adopted) && Array.isArray(adopted['files']) && adopted['files'].every((f) => isObject(f) && isSlotPath(f['path']) && isString(f['sha256']) && SHA256_HEX.test(f['sha256'])))) {
    return 'adopted is not {files: [{path (inside the rollback slot), sha256}]}'
  }
  for (const key of ['etcDefaults', 'createdDirs'] as const) {
    const list = isObject(adopted) ? adopted[key] : undefined
    if (list !== undefined && !(Array.isArray(list) && list.every(isSlotPath))) return `adopted.${key} is not a list of relative paths without '.' or '..'`
  }
  return undefined
}

/** What is wrong with an install record (receipt.json) for its readers, in words; undefined when sound. */
export function installRecordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not a JSON object'
  if (value['schemaVersion'] !== 1) return `schemaVersion is ${JSON.stringify(value['schemaVersion'])}, this esdctl reads 1`
  return shapeProblem(value) ?? nestedProblem(value)
}

export const MAX_REGISTRY_ENTRIES = 10_000

/** What is wrong with the registry (registry.json), in words; undefined when sound. */
export function registryProblem(value: unknown): string | undefined {
  if (!isObject(value) || value['schemaVersion'] !== 1 || !Array.isArray(value['daemons'])) return 'not an esdctl registry (schemaVersion 1 with a daemons list)'
  const daemons = value['daemons'] as unknown[]
  if (daemons.length > MAX_REGISTRY_ENTRIES) return `not an esdctl registry: more than ${MAX_REGISTRY_ENTRIES} daemons`
  const bad = daemons.findIndex((e) => !(isObject(e) && isValidName(e['name']) && isValidLabel(e['label']) && isString(e['prefix']) && e['prefix'].startsWith('/')))
  return bad < 0 ? undefined : `not an esdctl registry: daemons[${bad}] needs a valid name, label and absolute prefix`
}
