import {lstat, readdir, stat} from 'node:fs/promises'
import {makeScratchDir} from '../adapters/scratch-dir.js'
import {basename, join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {ExitCode} from '../exit-codes.js'
import {loadManifest} from '../manifest/load-manifest.js'
import {MANIFEST_FILE_NAME, type Manifest} from '../manifest/manifest.js'
import {extractPayloadArchive} from '../payload/extract-archive.js'
import {findRefusedPayloadEntry} from '../payload/set-id-bits.js'
import {LifecycleError} from './lifecycle-error.js'

export interface PayloadSource {
  /** The payload as a directory (the given one, or a private extraction of the archive). */
  dir: string
  manifest: Manifest
  /** Removes the private extraction, if any. */
  dispose(): Promise<void>
  /** Extraction directories that runs killed before they could clean up had left, removed now. */
  swept: string[]
}

/** What a payload may contribute to the prefix besides the bundle; everything else in it is ignored. */
export const PAYLOAD_DIRECTORIES = ['lib', 'modules', 'share'] as const

/**
 * Opens a payload directory or `.tar.gz` and reads its manifest. An archive is unpacked (by the
 * safe extractor) into a private 0700 directory first, since the manifest decides where the prefix
 * and its staging area are. Refuses with badInput naming the file and field.
 */
export async function openPayload(payload: string): Promise<PayloadSource> {
  let info
  try {
    info = await stat(payload)
  } catch (e) {
    throw new LifecycleError(ExitCode.badInput, `payload ${payload} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  let dir = payload
  let dispose = async (): Promise<void> => undefined
  let swept: string[] = []
  if (!info.isDirectory()) {
    const scratch = await makeScratchDir('esdctl-payload-')
    dispose = scratch.dispose
    swept = scratch.swept
    dir = join(scratch.path, 'payload')
    try {
      await extractPayloadArchive(payload, dir)
    } catch (e) {
      await dispose()
      if (isFormatError(e)) throw new LifecycleError(ExitCode.badInput, e.message)
      throw e
    }
  }
  // The same walk for both forms: an extracted archive already passed these checks entry by entry,
  // a directory payload meets them here, before anything is staged.
  const refused = await findRefusedPayloadEntry(dir).catch((e: unknown) => (isFormatError(e) ? e : Promise.reject(e)))
  if (refused !== undefined) {
    await dispose()
    throw new LifecycleError(ExitCode.badInput, refused.message)
  }
  const loaded = await loadManifest(join(dir, MANIFEST_FILE_NAME))
  if ('errors' in loaded) {
    const nested = (await lstat(join(dir, MANIFEST_FILE_NAME)).catch(() => undefined)) === undefined ? await manifestOneLevelDown(dir) : undefined
    await dispose()
    if (nested !== undefined) {
      const rebuild = dir === payload ? `install ${join(payload, nested)} instead` : `make the archive from inside the payload directory: tar -C <payload dir> -czf ${basename(payload)} .`
      throw new LifecycleError(ExitCode.badInput, `${payload}: ${MANIFEST_FILE_NAME} is at ${nested}/${MANIFEST_FILE_NAME}, not at the payload's root; ${rebuild}`)
    }
    // An archive's extraction is deleted by now: name the archive the admin gave, not the scratch copy.
    const shown = (text: string): string => (dir === payload ? text : text.split(join(dir, MANIFEST_FILE_NAME)).join(`${payload} (its ${MANIFEST_FILE_NAME})`))
    throw new LifecycleError(ExitCode.badInput, `the payload's manifest was refused: ${shown(loaded.errors[0]!.message)}`, loaded.errors.map((e) => shown(`${e.message} (fix: ${e.fix})`)))
  }
  return {dir, manifest: loaded.manifest, dispose, swept}
}

/**
 * The one folder directly under `dir` that holds esdctl.json, when `dir` itself holds none: a
 * payload archived with its folder (`tar -czf x.tgz 6.0.0`) rather than its contents. Undefined
 * when there is none or more than one (then no single folder is meant).
 */
async function manifestOneLevelDown(dir: string): Promise<string | undefined> {
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
  const found: string[] = []
  for (const entry of entries) {
    if (!entry.isDirectory()) continue
    if ((await lstat(join(dir, entry.name, MANIFEST_FILE_NAME)).catch(() => undefined))?.isFile()) found.push(entry.name)
  }
  return found.length === 1 ? found[0] : undefined
}
