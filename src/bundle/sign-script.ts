import {DEFAULT_CODESIGN, CodesignAdapter} from '../adapters/codesign.js'
import {shellQuote} from './shell-quote.js'

/**
 * The script to sign on a Mac what was built where codesign does not exist. Paths are relative to
 * the script's own directory, so the output can be copied to the Mac as a whole; the arguments are
 * otherwise exactly what esdctl would have run.
 */
export function renderSignScript(opts: {outDir: string; steps: string[][]; app: string; name: string}): string {
  const arg = (value: string): string =>
    value === opts.outDir ? '"$HERE"' : value.startsWith(opts.outDir + '/') ? `"$HERE"/${shellQuote(value.slice(opts.outDir.length + 1))}` : shellQuote(value)
  const line = (argv: string[]): string => [DEFAULT_CODESIGN, ...argv].map((a, i) => (i === 0 ? a : arg(a))).join(' ')
  return [
    '#!/bin/bash',
    `# Written by esdctl bundle on a machine without codesign. On a Mac whose keychain holds the`,
    `# signing identity, run: bash sign.sh   Then check the result with: esdctl verify ${opts.name}.app`,
    '# Nested code is signed first, then the bundle; each call replaces any earlier signature.',
    'set -euo pipefail',
    'PATH=/usr/bin:/bin:/usr/sbin:/sbin',
    'export PATH',
    'HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)',
    ...opts.steps.map(line),
    line(CodesignAdapter.verifyArguments(opts.app)),
    `echo "signed and verified: $HERE/${opts.name}.app"`,
    '',
  ].join('\n')
}
