import type {LifecycleJson} from '../cli/lifecycle-command.js'
import type {Finding} from '../verify/finding.js'

const SEVERITY = {error: '✖', warning: '!', info: 'i'} as const

/** The human summary of a lifecycle run: outcome, plan (dry run), findings, notes, refusal details. */
export function renderLifecycleText(r: LifecycleJson): string {
  const lines: string[] = []
  if (r.recovered) lines.push(`↺ ${r.recovered}`)
  if (r.plan) {
    lines.push(`Plan (dry run, nothing changed):`)
    r.plan.forEach((s, i) => lines.push(`  ${i + 1}. ${s.title}`))
    // The finish runs too once every step is done: the dry run shows all the real run does.
    if ((r.finish ?? []).length > 0) lines.push('  Then, once every step is done:')
    for (const f of r.finish ?? []) lines.push(`  - ${f.title}`)
  }
  for (const f of r.findings ?? []) lines.push(...renderFinding(f))
  // A one-problem refusal whose summary line already quotes it whole is not printed twice; with
  // more, the list shows them all.
  const details = r.details ?? []
  if (!(details.length === 1 && r.msg.includes(details[0]!))) for (const d of details) lines.push(`  - ${d}`)
  for (const n of r.notes ?? []) lines.push(`note: ${n}`)
  lines.push(`${mark(r)} ${r.msg}`)
  return lines.join('\n')
}

/** ✔ changed, = nothing to change, → a dry run whose real run would change something, ✖ failed. */
function mark(r: LifecycleJson): string {
  if (!r.ok) return '✖'
  if (!r.changed) return '='
  return r.dryRun ? '→' : '✔'
}

function renderFinding(f: Finding): string[] {
  return [`  ${SEVERITY[f.severity]} ${f.message} [${f.id}]`, ...(f.fix ? [`    fix: ${f.fix}`] : [])]
}
