import {strict as assert} from 'node:assert'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT} from '../support/real-artifacts.js'

/**
 * src/formats holds pure parsers of file formats: bytes in, structures or FormatError out. Trust
 * decisions (CMS, timestamps, signed profiles, chains) live in src/trust, judgements in src/verify,
 * file access in src/io, macOS tools in src/adapters; none of them may leak into formats.
 */
const FORBIDDEN_LAYERS = ['trust', 'verify', 'io', 'adapters', 'lifecycle', 'commands', 'render', 'bundle', 'payload', 'payload-build', 'doctor', 'status']
const FORBIDDEN_NODE = ['node:fs', 'node:fs/promises', 'node:child_process', 'node:worker_threads', 'node:net', 'node:os']

/** Every module specifier a TypeScript source imports or re-exports, statically or dynamically. */
function specifiers(source: string): string[] {
  const out: string[] = []
  for (const m of source.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    out.push((m[1] ?? m[2] ?? m[3])!)
  }
  return out
}

describe('src/formats stays pure', () => {
  const dir = join(REPO_ROOT, 'src', 'formats')
  const files = readdirSync(dir).filter(f => f.endsWith('.ts'))

  it('finds the format modules and reads their imports', () => {
    assert.ok(files.length >= 10, files.join(', '))
    assert.ok(specifiers(readFileSync(join(dir, 'certificate.ts'), 'utf8')).includes('./format-error.js'))
  })

  for (const file of files) {
    it(`${file} imports nothing from trust, verify, io, adapters or other layers, and touches no files or processes`, () => {
      const bad = specifiers(readFileSync(join(dir, file), 'utf8')).filter(
        s => FORBIDDEN_LAYERS.some(layer => s.startsWith(`../${layer}/`)) || FORBIDDEN_NODE.includes(s) || s.startsWith('../../'),
      )
      assert.deepEqual(bad, [])
    })
  }

  it('the specifier reader catches every import form (so the test can fail)', () => {
    const sample = "import {a} from '../trust/chain.js'\nimport type {B} from '../verify/x.js'\nexport {c} from '../io/y.js'\nconst d = await import('../adapters/z.js')\nimport '../io/side.js'\n"
    assert.deepEqual(specifiers(sample), ['../trust/chain.js', '../verify/x.js', '../io/y.js', '../adapters/z.js', '../io/side.js'])
  })
})
