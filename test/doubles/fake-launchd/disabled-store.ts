import {readFileSync, renameSync, writeFileSync} from 'node:fs'

/**
 * launchd keeps enable/disable overrides in a database of its own, apart from loaded jobs, so a
 * disable outlives bootout (and reboots). This keeps them in a file in the state dir likewise.
 */
export class DisabledStore {
  private readonly overrides: Map<string, boolean>

  constructor(private readonly path: string) {
    this.overrides = new Map(Object.entries(readOverrides(path)))
  }

  isDisabled(label: string): boolean {
    return this.overrides.get(label) === true
  }

  set(label: string, disabled: boolean): void {
    this.overrides.set(label, disabled)
    const tmp = `${this.path}.tmp`
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.overrides)))
    renameSync(tmp, this.path)
  }

  entries(): [string, boolean][] {
    return [...this.overrides.entries()].sort(([a], [b]) => a.localeCompare(b))
  }
}

function readOverrides(path: string): Record<string, boolean> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, boolean>
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw e
  }
}
