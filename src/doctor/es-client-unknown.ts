import {lstat} from 'node:fs/promises'
import type {OutputFile} from '../status/daemon-output.js'
import {skipped, type DoctorCheck} from './doctor-check.js'

/**
 * The `es.client` check when neither the daemon's output nor a unified log had a line to search:
 * says which output paths the plist sets and why they gave nothing (not there yet, empty, or not
 * readable), so a set StandardOutPath is never reported as missing. `files` come from outputFiles.
 */
export async function esClientUnknown(name: string, files: readonly OutputFile[]): Promise<DoctorCheck> {
  const unknown = 'and no unified log here, so es_new_client results are unknown'
  if (files.length === 0) return skipped('es.client', name, `no StandardOutPath/StandardErrorPath output to search ${unknown}`)
  const states: string[] = []
  for (const f of files) {
    const st = await lstat(f.path).catch((e: NodeJS.ErrnoException) => e.code ?? 'unreadable')
    const state = st === 'ENOENT' ? 'is set but not written yet (the daemon has printed nothing there since it was installed)'
      : typeof st === 'string' ? `cannot be read (${st})`
        : st.isFile() && st.size === 0 ? 'is set but empty so far' : 'cannot be read'
    states.push(`${f.key} ${f.systemPath} ${state}`)
  }
  return skipped('es.client', name, `${states.join('; ')}; ${unknown}`)
}
