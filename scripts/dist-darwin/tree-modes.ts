import {chmod, lstat, readdir} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * Sets the modes Apple's guidance asks of root-owned software, in place: directories and files with
 * an execute bit 0755, other files 0644; links are left alone (their mode is not used on macOS
 * volumes the way it is recorded). pkgbuild records these modes as they are on disk, and with
 * `--ownership recommended` root:wheel as owner, whoever built the tree.
 */
export async function normaliseModes(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const name of await readdir(dir)) {
    const path = join(dir, name)
    const info = await lstat(path)
    if (info.isDirectory()) await normaliseModes(path)
    else if (info.isFile()) await chmod(path, info.mode & 0o111 ? 0o755 : 0o644)
  }
}
