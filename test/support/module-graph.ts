import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {REPO_ROOT} from './real-artifacts.js'

/**
 * Loads a module in a fresh Node (as a script with `args` when given) and lists every module URL it
 * resolved (ESM imports and CommonJS requires alike, through Node's synchronous module hooks).
 */
export async function moduleGraph(entry: string, args?: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'esdctl-module-graph-'))
  const out = join(dir, 'graph.json')
  // Written at exit: the entry may write to stdout itself, and oclif may end the process.
  const script = `
    import {registerHooks} from 'node:module'
    import {writeFileSync} from 'node:fs'
    const seen = new Set()
    registerHooks({resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r }})
    process.on('exit', () => writeFileSync(${JSON.stringify(out)}, JSON.stringify([...seen])))
    ${args ? `process.argv.splice(1, Infinity, ${JSON.stringify(entry)}, ...${JSON.stringify(args)})` : ''}
    await import(${JSON.stringify(pathToFileURL(entry).href)})
  `
  try {
    const env = {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/'}
    await execa(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, env, extendEnv: false, reject: false})
    return JSON.parse(await readFile(out, 'utf8')) as string[]
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

