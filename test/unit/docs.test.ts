import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT} from '../support/real-artifacts.js'

interface Manifest {
  commands: Record<string, {flags: Record<string, {char?: string; hidden?: boolean}>}>
}

/**
 * Every command and flag esdctl has is documented: in the man page and in the README's command
 * reference. Read from the oclif manifest `npm test` regenerates, so a new flag without docs fails.
 */
describe('documentation covers every command and flag', () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest
  const man = readFileSync(join(REPO_ROOT, 'man', 'esdctl.1'), 'utf8').replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '')
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const ours = Object.entries(manifest.commands).filter(([id]) => !id.startsWith('autocomplete'))

  it('knows the commands', () => {
    assert.ok(ours.length >= 15, `only ${ours.length} commands in the manifest`)
  })

  for (const [id, cmd] of ours) {
    it(`${id}: in the man page and the README, with each flag`, () => {
      assert.match(man, new RegExp(`\\b${id}\\b`), `man page lacks ${id}`)
      assert.ok(readme.includes(`esdctl ${id}`), `README lacks esdctl ${id}`)
      for (const [flag, def] of Object.entries(cmd.flags)) {
        if (def.hidden || flag === 'json') continue
        assert.ok(man.includes(`--${flag}`), `man page lacks ${id} --${flag}`)
        assert.ok(readme.includes(`--${flag}`), `README lacks ${id} --${flag}`)
      }
    })
  }
})
