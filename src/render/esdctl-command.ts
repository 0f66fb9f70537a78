/**
 * An esdctl command line to suggest, as the admin would type it. Under `--root` (an image, not the
 * running Mac) it carries `--root DIR`, so following the advice acts on the same image and never
 * on the machine the admin sits at.
 */
export function esdctlCommand(verb: string, args: string, root = '/'): string {
  return `sudo esdctl ${verb}${root === '/' ? '' : ` --root ${root}`}${args ? ` ${args}` : ''}`
}

/**
 * Which command repairs a damaged record: any that changes the daemon. On a live Mac `start`
 * leaves a running daemon alone; in an image, where launchd is not asked, `install` of the payload.
 */
export function anyChangingCommand(who: string, root = '/'): string {
  return root === '/'
    ? `for example \`${esdctlCommand('start', who)}\`, which leaves a running daemon alone`
    : `in the image, for example \`${esdctlCommand('install', 'PAYLOAD', root)}\` with the payload installed there`
}
