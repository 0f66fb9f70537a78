import {lstat, readdir, stat} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {isValidExecutableName, isValidName} from '../layout/names.js'
import {isBundleVersion} from '../lifecycle/version-order.js'
import {BuildRefusal} from './bundle-error.js'
import type {BundleRequest} from './bundle-request.js'
import {fileTypeName, MH_EXECUTE} from '../formats/macho.js'
import {isFormatError} from '../formats/format-error.js'
import {looksLikeMachO, machOFileTypes} from '../io/macho-sniff.js'
import {kindInWords} from '../io/regular-file.js'

/** CFBundleIdentifier: letters, digits, hyphens and periods, at least two components. */
const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/
const MACOS_VERSION = /^(1[0-9]|[2-9][0-9])\.[0-9]{1,2}(\.[0-9]{1,2})?$/
/** A daemon's resources are configuration and data; a tree beyond this is a wrong --resources. */
const MAX_RESOURCE_ENTRIES = 100_000

export interface CheckedInputs {
  /** The bundle's name: `<name>.app`. */
  name: string
  /** CFBundleExecutable: the file name in Contents/MacOS. */
  executableName: string
  executable: string
  bundleId: string
  version: string
  build: string
  minMacos: string
  resources?: string
  out: string
  /** What this run will put into `out`, by file name. */
  outputs: string[]
}

export const SIGN_SCRIPT_NAME = 'sign.sh'

/** Everything about the request that can be checked without the profile; refuses before anything is written. */
export async function checkInputs(req: BundleRequest): Promise<CheckedInputs> {
  const executable = resolve(req.executable)
  const executableName = basename(executable)
  const name = req.name ?? executableName
  if (req.name !== undefined && !isValidName(req.name)) {
    throw new BuildRefusal('bundle.bad-name', '--name', 'name', `${JSON.stringify(req.name)} cannot name a bundle: use 1-64 letters (either case), digits, '.', '_' or '-', starting with a letter or digit, without '..'`, 'Pass a name such as osquery; the bundle becomes <name>.app.')
  }
  await checkExecutable(executable, executableName, req.name === undefined)
  if (!BUNDLE_ID.test(req.bundleId)) {
    throw new BuildRefusal('bundle.bad-bundle-id', '--bundle-id', 'CFBundleIdentifier', `${JSON.stringify(req.bundleId)} is not a bundle identifier`, 'Use reverse-DNS form of letters, digits, hyphens and periods, e.g. com.example.thed.')
  }
  const build = req.build ?? req.version
  for (const [flag, key, value] of [['--version', 'CFBundleShortVersionString', req.version], ['--build', 'CFBundleVersion', build]] as const) {
    if (!isBundleVersion(value)) throw new BuildRefusal('bundle.bad-version', flag, key, `${JSON.stringify(value)} is not one to three period-separated integers`, 'Use a version such as 1.4.2.')
  }
  const minMacos = req.minMacos ?? '12.0'
  if (!MACOS_VERSION.test(minMacos)) {
    throw new BuildRefusal('bundle.bad-min-macos', '--min-macos', 'LSMinimumSystemVersion', `${JSON.stringify(minMacos)} is not a macOS version`, 'Use a version such as 12.0.')
  }
  const checked: CheckedInputs = {name, executableName, executable, bundleId: req.bundleId, version: req.version, build, minMacos, out: resolve(req.out), outputs: [`${name}.app`, `${name}.entitlements`, SIGN_SCRIPT_NAME]}
  if (req.resources !== undefined) {
    checked.resources = resolve(req.resources)
    await checkResources(checked.resources)
  }
  await checkOut(checked, req.force === true)
  return checked
}

async function checkExecutable(path: string, name: string, namesBundle: boolean): Promise<void> {
  let info
  try {
    info = await stat(path)
  } catch (e) {
    throw new BuildRefusal('bundle.executable-unreadable', path, '--executable', `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'Pass the path of the compiled daemon.')
  }
  if (!info.isFile()) throw new BuildRefusal('bundle.executable-unreadable', path, '--executable', 'is not a regular file', 'Pass the path of the compiled daemon.')
  if (!isValidExecutableName(name)) {
    throw new BuildRefusal('bundle.bad-name', path, 'CFBundleExecutable', `the file name ${JSON.stringify(name)} cannot be a bundle's executable: use letters (either case), digits, ' ', '.', '_', '+' or '-', starting with a letter, digit or '_', without '..'`, 'Rename the executable.')
  }
  if (namesBundle && !isValidName(name)) {
    throw new BuildRefusal('bundle.bad-name', path, 'CFBundleExecutable', `the file name ${JSON.stringify(name)} cannot also name the bundle: a bundle name is 1-64 letters (either case), digits, '.', '_' or '-', starting with a letter or digit`, 'Pass --name with the bundle\'s name, or rename the executable.')
  }
  if (!(await looksLikeMachO(path))) {
    throw new BuildRefusal('bundle.not-macho', path, '--executable', 'is not a Mach-O executable', 'Pass the daemon built for macOS (thin or universal Mach-O).')
  }
  let slices
  try {
    slices = await machOFileTypes(path)
  } catch (e) {
    if (!isFormatError(e)) throw e
    throw new BuildRefusal('bundle.not-macho', path, '--executable', `is not a Mach-O executable esdctl can read (${e.message})`, 'Pass the daemon built for macOS (thin or universal Mach-O).')
  }
  // launchd starts the bundle's main executable as a program: a library or object file cannot run.
  const other = slices.find((s) => s.fileType !== MH_EXECUTE)
  if (other !== undefined) {
    throw new BuildRefusal('bundle.not-executable', path, '--executable', `the ${other.arch} slice is ${fileTypeName(other.fileType)}, not MH_EXECUTE (2): launchd can only run an executable, not a library or object file`, 'Pass the linked daemon program (the final link\'s output, e.g. clang -o mydaemon …), not a .dylib, .o or plug-in.')
  }
}

/** Only directories and regular files: a link could pull a file from outside into the sealed bundle. */
async function checkResources(root: string): Promise<void> {
  let count = 0
  const walk = async (dir: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir)
    } catch (e) {
      throw new BuildRefusal('bundle.resources-unreadable', dir, '--resources', `cannot be read as a directory (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'Pass a directory of resource files.')
    }
    for (const entry of entries) {
      if (++count > MAX_RESOURCE_ENTRIES) throw new BuildRefusal('bundle.resources-too-many', root, '--resources', `holds more than ${MAX_RESOURCE_ENTRIES} entries`, 'Pass the directory meant for Contents/Resources.')
      const path = join(dir, entry)
      const info = await lstat(path)
      if (info.isDirectory()) await walk(path)
      else if (info.isSymbolicLink()) throw new BuildRefusal('bundle.resources-special', path, '--resources', 'is a symbolic link; only directories and regular files go into a bundle', 'Replace it with a copy of the file it points to.')
      else if (!info.isFile()) throw new BuildRefusal('bundle.resources-special', path, '--resources', `is ${kindInWords(info)}; only directories and regular files go into a bundle`, 'Remove it from the --resources directory: a bundle holds only directories and regular files (a daemon creates its sockets and FIFOs at run time, under var/).')
    }
  }
  const info = await lstat(root).catch(() => undefined)
  if (!info?.isDirectory()) throw new BuildRefusal('bundle.resources-unreadable', root, '--resources', 'is not a directory', 'Pass a directory of resource files.')
  await walk(root)
}

async function checkOut(inputs: CheckedInputs, force: boolean): Promise<void> {
  const parent = await stat(dirname(inputs.out)).catch(() => undefined)
  if (!parent?.isDirectory()) throw new BuildRefusal('bundle.out-parent', inputs.out, '--out', `its parent ${dirname(inputs.out)} is not an existing directory`, 'Create the parent directory first.')
  const out = await lstat(inputs.out).catch(() => undefined)
  if (!out) return
  if (!out.isDirectory()) throw new BuildRefusal('bundle.out-not-dir', inputs.out, '--out', 'exists and is not a directory', 'Pass a directory for the results.')
  if (force) return
  for (const name of inputs.outputs) {
    const there = await lstat(join(inputs.out, name)).catch(() => undefined)
    if (there) {
      // Name what is in the way and why it matters: it is one of the outputs, not necessarily a bundle.
      const what = name.endsWith('.app') ? 'the bundle' : name === SIGN_SCRIPT_NAME ? 'the signing script' : 'the entitlements file'
      const kind = there.isDirectory() ? 'a folder' : there.isSymbolicLink() ? 'a link' : 'a file'
      throw new BuildRefusal('bundle.exists', join(inputs.out, name), '--out', `already exists (${kind}); bundle writes ${what} ${name} there (with ${inputs.outputs.filter((o) => o !== name).join(' and ')}) and does not overwrite anything`, 'Pass --force to replace it, or choose another --out.')
    }
  }
}
