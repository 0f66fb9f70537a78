import {join} from 'node:path'
import type {Finding} from '../verify/finding.js'
import type {ContainedItemReport} from '../verify/package-report.js'
import type {NestedCodeReport, VerifyReport} from '../verify/report.js'
import {refusalInWords} from '../verify/unreadable-member.js'
import {visible} from './visible-text.js'

const MARK = {ok: '✔', error: '✖', warning: '!', info: 'i', unchecked: '–'} as const

interface Section {
  title: string
  prefixes: string[]
  /** Of the input, or of a member (a member has its kind and stapled ticket, not the whole report). */
  applies: (r: Pick<VerifyReport, 'kind' | 'notarization'>) => boolean
  /** Whether anything this area judges was reached; a ✔ over nothing checked would read as a pass. */
  checked?: (r: VerifyReport) => boolean
  /** Judged of the input itself only, never of a member of a folder, archive or package. */
  ownOnly?: boolean
}

/**
 * Whether the area's checks ran on the input or on any member of it (a folder, archive or package
 * holds bundles, profiles, packages): the checks that passed on members are shown as a single-file
 * verify shows them, one line per area, not only the ones that failed.
 */
function applies(section: Section, r: VerifyReport): boolean {
  return section.applies(r) || (!section.ownOnly && opened(r).some(i => section.applies(i) || (i.contains ?? []).some(kind => section.applies({kind}))))
}

/**
 * The members esdctl opened: a folder's or an archive's .pkg or .provisionprofile (picked by its
 * name) that it may not read or that is empty has only that finding about its own path (a folder's
 * `<folder>/<member>`, an archive's `<archive>:<member>`), and no area ran on it.
 */
const opened = (r: VerifyReport): ContainedItemReport[] =>
  (r.items ?? []).filter(i => !i.findings.some(f => (f.id === 'input.unreadable' || f.id === 'input.empty') && (f.path === join(r.path, i.path) || f.path === `${r.path}:${i.path}`)))

/** Some code was read: a slice of the input, or a bundle or Mach-O file inside a package, folder or bundle. */
const codeWasRead = (r: VerifyReport) => r.slices.length > 0 || opened(r).some(i => i.kind !== 'profile') || (r.nested?.length ?? 0) > 0

/** What a bundle-area predicate reads: the input itself, or one member of a folder, archive or package. */
type Judged = Pick<VerifyReport, 'kind' | 'findings' | 'slices' | 'notarization' | 'items'>

/**
 * Whether the bundle verifier got past Info.plist and the main executable to the seal, the profile
 * and the ticket: it reports `notarization` (stapled or not) exactly when it did. Anything else is
 * not a bundle and is judged by its own areas.
 */
const bundleWalked = (r: Judged) => r.kind !== 'bundle' || r.notarization !== undefined

/**
 * A bundle area's predicate of one bundle, asked of the input when it is a bundle, else of every
 * bundle member (erring to "not checked" when any one was not). A folder's own findings (a loose
 * file it may not read) belong to no bundle: they must not make its bundles' areas "not checked".
 */
const everyBundle = (ofBundle: (b: Judged) => boolean) => (r: Judged): boolean =>
  r.kind === 'bundle' ? ofBundle(r) : (r.items ?? []).filter(i => i.kind === 'bundle').every(i => ofBundle(i))

/** Whether `file` (a bundle part, by the end of its path) was there but esdctl may not read it. */
const refused = (r: Judged, file: string) => r.findings.some(f => f.id === 'input.unreadable' && f.path.endsWith(file))

/** Stopped short by a part it may not read (Info.plist, a folder) rather than by a finding of its own: not checked. */
const layoutRead = everyBundle(b => bundleWalked(b) || !b.findings.some(f => f.id === 'input.unreadable'))

/** The seal covers every part but the stapled ticket: one esdctl may not read leaves the seal unjudged (erring to "not checked"). */
const sealRead = everyBundle(b => bundleWalked(b) && !b.findings.some(f => f.id === 'input.unreadable' && !f.path.endsWith('/Contents/CodeResources')))

/** A bundle's profile is judged against its main executable's signature: without a slice, only half of it ran. Profiles are judged by their own area. */
const profileRead = everyBundle(b => bundleWalked(b) && b.slices.length > 0 && !refused(b, '/embedded.provisionprofile'))

const SECTIONS: Section[] = [
  {title: 'Input', prefixes: ['input.'], applies: r => r.kind === 'unknown', ownOnly: true},
  {title: 'Bundle layout and Info.plist', prefixes: ['bundle.'], applies: r => r.kind === 'bundle', checked: layoutRead},
  {title: 'Installer package (signatures, checksums, payload)', prefixes: ['package.'], applies: r => r.kind === 'package'},
  {title: 'Code signature (every slice)', prefixes: ['macho.', 'signature.', 'cms.', 'binary.'], applies: r => r.kind !== 'profile' && r.kind !== 'unknown', checked: codeWasRead},
  {title: 'Entitlements', prefixes: ['entitlements.'], applies: r => r.kind !== 'profile' && r.kind !== 'unknown', checked: codeWasRead},
  {title: 'Resource seal (CodeResources)', prefixes: ['seal.'], applies: r => r.kind === 'bundle', checked: sealRead},
  {title: 'Notarization (stapled ticket)', prefixes: ['notarization.'], applies: r => r.notarization?.stapled === true},
  {title: 'Provisioning profile', prefixes: ['profile.'], applies: r => r.kind === 'profile' || r.kind === 'bundle', checked: profileRead},
]

/** The human checklist: one line per area, then each finding with its fix under it. */
export function renderVerifyText(r: VerifyReport, opts: {failedByWarnings?: boolean} = {}): string {
  const lines: string[] = [`esdctl verify ${r.path} (${r.kind})`]
  for (const s of r.slices) {
    const who = s.signer === 'unsigned' ? 'unsigned' : `${s.signer}${s.signerName ? ` — ${s.signerName}` : ''}`
    lines.push(`  ${s.arch}: ${s.identifier ?? '?'}${s.teamId ? ` (team ${s.teamId})` : ''}, ${who}${s.cdhash ? `, cdhash ${s.cdhash}` : ''}${s.flags.length ? ` [${s.flags.join(', ')}]` : ''}`)
  }
  if (r.profile) {
    const p = r.profile
    lines.push(`  profile: "${p.name}" ${p.kind}, ${p.appId ?? 'no app id'}, expires ${p.expires?.slice(0, 10) ?? 'never'}`)
  }
  if (r.package) lines.push(...packageLines(r))
  lines.push(...itemLines(r))
  if (r.notarization) lines.push(`  notarization: ${notarizationLine(r.notarization)}`)
  if (r.nested?.length) {
    lines.push('  nested code:')
    lines.push(...nestedTree(r.nested, 2))
  }
  lines.push('')
  const shown = new Set<Finding>()
  for (const section of SECTIONS) {
    const mine = r.findings.filter(f => section.prefixes.some(p => f.id.startsWith(p)))
    if (!applies(section, r) && mine.length === 0) continue
    if (mine.length === 0 && section.checked && !section.checked(r)) {
      lines.push(`${MARK.unchecked} ${section.title}: not checked`)
      continue
    }
    const worst = mine.some(f => f.severity === 'error') ? MARK.error : mine.some(f => f.severity === 'warning') ? MARK.warning : MARK.ok
    lines.push(`${worst} ${section.title}`)
    for (const f of mine) {
      shown.add(f)
      lines.push(...renderFinding(f))
    }
  }
  const rest = r.findings.filter(f => !shown.has(f))
  if (rest.length) {
    lines.push(`${rest.some(f => f.severity === 'error') ? MARK.error : rest.some(f => f.severity === 'warning') ? MARK.warning : MARK.info} Other`)
    for (const f of rest) lines.push(...renderFinding(f))
  }
  const errors = r.findings.filter(f => f.severity === 'error').length
  const warnings = r.findings.filter(f => f.severity === 'warning').length
  const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
  if (opts.failedByWarnings) {
    lines.push('', `FAILED under --warnings-as-errors: ${counts} (macOS itself would accept it).`)
    return printable(lines)
  }
  lines.push('', r.ok ? `OK: macOS would accept it${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}.` : `FAILED: ${errors} error${errors > 1 ? 's' : ''}, ${warnings} warning${warnings === 1 ? '' : 's'}.`)
  return printable(lines)
}

/** One printed line per entry, whatever the input put in the names and messages inside it. */
function printable(lines: string[]): string {
  return lines.map(visible).join('\n')
}

function packageLines(r: VerifyReport): string[] {
  const p = r.package!
  const lines = [`  package: ${p.identifier ?? '?'} ${p.version ?? ''} (${p.format})${p.installLocation ? `, installs to ${p.installLocation}` : ''}`.replace(/ +\(/, ' (')]
  lines.push(`  signed: ${p.signer}${p.signerName ? ` — ${p.signerName}` : ''}${p.timestamp ? `, secure timestamp ${p.timestamp.slice(0, 10)}` : ', no secure timestamp'}`)
  lines.push(`  scripts: ${p.scripts.length ? p.scripts.join(', ') : 'none'}`)
  return lines
}

function itemLines(r: VerifyReport): string[] {
  const lines: string[] = []
  const read = new Set(opened(r))
  for (const item of r.items ?? []) {
    const errors = item.findings.filter(f => f.severity === 'error').length
    const verdict = errors ? `${errors} error${errors > 1 ? 's' : ''}` : 'ok'
    const what = !read.has(item) ? (item.findings.some(f => f.id === 'input.empty') ? 'empty (0 bytes)' : 'not readable') : item.kind === 'profile' ? (item.profile ? `"${item.profile.name}" ${item.profile.kind}` : 'unreadable') : item.slices.map(s => s.arch).join(', ') || 'no signed slice'
    lines.push(`  contains ${item.path} (${item.kind}): ${what} — ${verdict}`)
  }
  return lines
}

function notarizationLine(n: NonNullable<VerifyReport['notarization']>): string {
  if (!n.stapled) return 'no stapled ticket (Gatekeeper asks Apple online)'
  const when = n.issuedAt ? `, issued ${n.issuedAt.slice(0, 10)}` : ''
  return `${n.verified ? 'stapled ticket verified offline' : 'stapled ticket NOT verified'}${when}, lists ${n.cdhashes.length} hash${n.cdhashes.length === 1 ? '' : 'es'}`
}

/** One line per nested code item, indented by depth, marked by whether anything is wrong in or about it. */
function nestedTree(items: NestedCodeReport[], depth: number): string[] {
  const out: string[] = []
  for (const n of items) {
    out.push(`${'  '.repeat(depth)}${n.ok ? MARK.ok : MARK.error} ${n.path} (${n.kind}): ${nestedWho(n)}`)
    if (n.nested) out.push(...nestedTree(n.nested, depth + 1))
  }
  return out
}

/**
 * Who signed one nested item, as far as esdctl read it: code it could not open is named unreadable,
 * and code with no slice read (not a recognisable bundle, one stopped before its executable) is not
 * called unsigned, which would be a verdict on bytes nobody saw.
 */
function nestedWho(n: NestedCodeReport): string {
  if (n.unreadable) return `unreadable: ${refusalInWords(n.unreadable)}`
  if (n.kind === 'xattr-signed') return 'signed in extended attributes'
  return `${n.identifier ?? '?'}${n.teamId ? ` (team ${n.teamId})` : ''}, ${n.signer ?? 'no code read'}${n.cdhash ? `, cdhash ${n.cdhash}` : ''}`
}

function renderFinding(f: Finding): string[] {
  const out = [`    ${MARK[f.severity]} ${f.message} [${f.id}]`]
  if (f.fix) out.push(`      fix: ${f.fix}`)
  return out
}
