import {isValidLabel} from '../layout/names.js'
import type {Cleanup, PlanStep, StepKind} from './plan.js'

/**
 * The shape of every plan step and cleanup kind, checked whenever a journal is read (recovery runs
 * what it says as root, so it is input like any other). A table rather than a schema compiler:
 * doctor reads journals too and stays light. Each field's type also says whether it holds paths,
 * which is how recovery learns every path a journal would touch before it touches any.
 */
type FieldType = 'path' | 'string' | 'label' | 'int' | 'bool' | 'moves' | 'dirs' | 'jobs' | 'link-states' | 'placed-links' | 'etc-files' | 'manifest' | 'change' | 'paths'

const STEP_FIELDS: Record<StepKind, Record<string, FieldType>> = {
  move: {moves: 'moves', before: 'dirs', after: 'dirs'},
  enable: {label: 'label'},
  bootout: {label: 'label', plist: 'path', loaded: 'bool', waitMs: 'int', wait: 'bool'},
  'await-exit': {label: 'label', loaded: 'bool', waitMs: 'int'},
  'bootout-jobs': {jobs: 'jobs', waitMs: 'int'},
  bootstrap: {label: 'label', plist: 'path', enable: 'bool', waitMs: 'int'},
  'bootstrap-jobs': {jobs: 'jobs', waitMs: 'int'},
  'health-check': {manifest: 'manifest', bundle: 'string'},
  links: {before: 'link-states', after: 'placed-links'},
  config: {etcDir: 'path', stagedEtc: 'path', backupDir: 'path', files: 'etc-files'},
  'write-plist': {path: 'path', from: 'path', keep: 'path', hadPlist: 'bool'},
  'swap-plist': {path: 'path', slotPath: 'path', savedCurrent: 'path', savedSlot: 'path'},
  'remove-plist': {path: 'path', saved: 'path'},
  'write-records': {receipt: 'path', kept: 'path', from: 'path', hadInstall: 'bool', addToRegistry: 'bool'},
  registry: {change: 'change', apply: 'bool'},
}

const CLEANUP_FIELDS: Record<Cleanup['kind'], Record<string, FieldType>> = {
  'remove-tree': {path: 'path'},
  'remove-empty-dir': {path: 'path'},
  'purge-prefix': {prefix: 'path', keep: 'path'},
  'remove-created-dirs': {dirs: 'paths'},
}

/** Bounds a journal's lists: a plan has a few dozen entries at most. */
const MAX_ITEMS = 4096
const MAX_TEXT = 4096

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isPath = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/') && v.length <= MAX_TEXT && !v.includes('\0')
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT
const listOf = (v: unknown, item: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length <= MAX_ITEMS && v.every(item)

const CHECKS: Record<FieldType, (v: unknown) => boolean> = {
  path: isPath,
  string: isText,
  label: isValidLabel,
  int: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  bool: (v) => typeof v === 'boolean',
  change: (v) => v === 'add' || v === 'remove',
  paths: (v) => listOf(v, isPath),
  moves: (v) => listOf(v, (m) => isObject(m) && isPath(m['from']) && isPath(m['to'])),
  dirs: (v) => listOf(v, (d) => isObject(d) && isPath(d['path']) && Number.isSafeInteger(d['mode']) && typeof d['removeOnUndo'] === 'boolean'),
  jobs: (v) => listOf(v, (j) => isObject(j) && isValidLabel(j['label']) && (j['plist'] === undefined || isPath(j['plist']))),
  'link-states': (v) => listOf(v, (s) => isObject(s) && isPath(s['path']) && (s['text'] === null || isText(s['text'])) && typeof s['dirExisted'] === 'boolean'),
  'placed-links': (v) => listOf(v, (l) => isObject(l) && isPath(l['path']) && isText(l['systemPath']) && isText(l['text'])),
  'etc-files': (v) => listOf(v, (f) => isObject(f) && isText(f['file']) && !String(f['file']).split('/').includes('..') && ['new', 'replace', 'keep'].includes(f['action'] as string)),
  manifest: (v) => isObject(v) && isValidLabel(v['label']),
}

function fieldsProblem(entry: Json, fields: Record<string, FieldType>, what: string): string | undefined {
  for (const [field, type] of Object.entries(fields)) {
    if (!CHECKS[type](entry[field])) return `${what}: ${field} is missing or not a valid ${type}`
  }
  return undefined
}

export function isStepKind(kind: unknown): kind is StepKind {
  return typeof kind === 'string' && Object.hasOwn(STEP_FIELDS, kind)
}

/** The first shape problem of a journal's step, or undefined; an unknown kind is reported by the caller. */
export function stepProblem(step: Json): string | undefined {
  if (!isText(step['id']) || !/^[a-z0-9-]{1,64}$/.test(step['id'] as string)) return 'a step has no valid id'
  if (!isText(step['title'])) return `step ${String(step['id'])} has no title`
  if (!isStepKind(step['kind'])) return `step ${String(step['id'])} has the unknown kind ${JSON.stringify(step['kind'])}`
  return fieldsProblem(step, STEP_FIELDS[step['kind']], `step ${String(step['id'])} (${step['kind']})`)
}

export function cleanupProblem(cleanup: unknown): string | undefined {
  if (!isObject(cleanup) || typeof cleanup['kind'] !== 'string' || !Object.hasOwn(CLEANUP_FIELDS, cleanup['kind'])) return `a cleanup has the unknown kind ${JSON.stringify(isObject(cleanup) ? cleanup['kind'] : cleanup)}`
  return fieldsProblem(cleanup, CLEANUP_FIELDS[cleanup['kind'] as Cleanup['kind']], `cleanup ${cleanup['kind']}`)
}

function pathsIn(type: FieldType, value: unknown): string[] {
  switch (type) {
    // Stryker disable next-line ConditionalExpression: without its return 'path' falls through to 'paths', which returns the string itself, and pathsOf's flatMap keeps a non-array result as one element: the same list.
    case 'path': return [value as string]
    case 'paths': return value as string[]
    case 'moves': return (value as {from: string; to: string}[]).flatMap((m) => [m.from, m.to])
    case 'dirs': return (value as {path: string}[]).map((d) => d.path)
    case 'jobs': return (value as {plist?: string}[]).flatMap((j) => (j.plist === undefined ? [] : [j.plist]))
    case 'link-states':
    case 'placed-links': return (value as {path: string}[]).map((l) => l.path)
    default: return []
  }
}

/** Every path a (shape-checked) step or cleanup names: what recovery must be allowed to touch before it acts on any. */
export function pathsOf(entry: PlanStep | Cleanup): string[] {
  const fields = isStepKind(entry.kind) && 'id' in entry ? STEP_FIELDS[entry.kind] : CLEANUP_FIELDS[entry.kind as Cleanup['kind']]
  return Object.entries(fields).flatMap(([field, type]) => pathsIn(type, (entry as unknown as Json)[field]))
}
