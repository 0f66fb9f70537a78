import type {Rng} from './rng.js'

/** Values that break length and offset arithmetic: zero, one, sign bits, all ones, page sizes. */
const INTERESTING_32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x4000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]

/**
 * One to eight byte-level mutations of `seed` (never in place): bit flips, interesting 8/32-bit
 * values at any offset (either byte order), chunk deletion, duplication, random insertion,
 * truncation. `hot` offsets (headers, signature areas) are chosen half the time.
 */
export function mutateBytes(rng: Rng, seed: Buffer, hot: readonly number[] = []): Buffer {
  let b = Buffer.from(seed)
  const rounds = 1 + rng.int(8)
  const offset = (): number => {
    if (b.length === 0) return 0
    if (hot.length > 0 && rng.chance(0.5)) return Math.min(b.length - 1, Math.max(0, rng.pick(hot) + rng.int(64) - 8))
    return rng.int(b.length)
  }
  for (let r = 0; r < rounds; r++) {
    const at = offset()
    switch (rng.int(8)) {
      case 0:
        if (b.length) b[at] = b[at]! ^ (1 << rng.int(8))
        break
      case 1:
        if (b.length) b[at] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)])
        break
      case 2:
      case 3:
        if (at + 4 <= b.length) {
          const v = rng.pick(INTERESTING_32)
          if (rng.chance(0.5)) b.writeUInt32BE(v, at)
          else b.writeUInt32LE(v, at)
        }
        break
      case 4: {
        const len = 1 + rng.int(Math.min(256, b.length + 1))
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))])
        break
      }
      case 5: {
        const len = 1 + rng.int(Math.min(512, b.length + 1))
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)])
        break
      }
      case 6: {
        const extra = Buffer.alloc(1 + rng.int(64))
        for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256)
        b = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)])
        break
      }
      default:
        b = b.subarray(0, at)
    }
  }
  return b
}

/** Fresh each time: a shared object edited by one case would leak into the next (and could become circular). */
function nastyValue(rng: Rng): unknown {
  const values: (() => unknown)[] = [() => null, () => true, () => 0, () => -1, () => 1e308, () => -1e308, () => 2 ** 53 + 1, () => '', () => 'x'.repeat(70_000), () => '../../etc/passwd', () => '\u0000', () => '\uD800', () => [], () => ({}), () => [[[[[]]]]], () => JSON.parse('{"__proto__": {"polluted": true}}'), () => ({constructor: {prototype: {}}}), () => '{prefix}/{prefix}/{prefix}']
  return rng.pick(values)()
}

/** Stands for a deeply nested array, spliced in as text (JSON.stringify itself would overflow). */
const DEEP = '\u0000deep\u0000'

/** A structural edit of a JSON document (a value replaced by a nasty one somewhere), or its bytes mutated. */
export function mutateJson(rng: Rng, seed: unknown, seedText: Buffer): Buffer {
  if (rng.chance(0.3)) return mutateBytes(rng, seedText)
  const doc = structuredClone(seed) as Record<string, unknown>
  const edits = 1 + rng.int(3)
  for (let i = 0; i < edits; i++) {
    let target: Record<string, unknown> = doc
    // Walk into an object or array child now and then.
    for (let depth = 0; depth < 3 && rng.chance(0.4); depth++) {
      const children = Object.values(target).filter((v) => typeof v === 'object' && v !== null) as Record<string, unknown>[]
      if (children.length === 0) break
      target = rng.pick(children)
    }
    const keys = Object.keys(target)
    const key = rng.chance(0.8) && keys.length > 0 ? rng.pick(keys) : rng.pick(['__proto__', 'constructor', 'extra', '', 'KeepAlive', 'programArguments'])
    const value = rng.chance(0.1) ? DEEP : nastyValue(rng)
    if (rng.chance(0.15)) delete target[key]
    else Object.defineProperty(target, key, {value, enumerable: true, configurable: true, writable: true})
  }
  let text = JSON.stringify(doc)
  while (text.includes(JSON.stringify(DEEP))) {
    const depth = rng.pick([100, 5000, 100_000])
    text = text.replace(JSON.stringify(DEEP), '['.repeat(depth) + ']'.repeat(depth))
  }
  // JSON.stringify cannot write what a hostile file can: duplicate keys, deep nesting.
  if (rng.chance(0.1)) text = text.replace(/^\{/, `{"name":"dup",`)
  if (rng.chance(0.05)) text = '['.repeat(200_000) + ']'.repeat(200_000)
  return Buffer.from(text)
}

/** XML property-list fragments that stress a parser: nesting, entities, huge numbers, bad dates and base64. */
export function hostileXmlPlist(rng: Rng): Buffer {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n'
  const depth = rng.pick([10, 1000, 5000])
  const bodies = [
    '<array>'.repeat(depth) + '</array>'.repeat(depth),
    '<dict><key>a</key>'.repeat(depth) + '<string/>' + '</dict>'.repeat(depth),
    `<dict><key>n</key><integer>${'9'.repeat(rng.pick([20, 400, 20_000]))}</integer></dict>`,
    `<dict><key>r</key><real>${rng.pick(['nan', 'inf', '-0', '1e99999', 'x'])}</real></dict>`,
    `<dict><key>d</key><date>${rng.pick(['', '9999-99-99T99:99:99Z', 'yesterday', '-271821-04-19T00:00:00Z'])}</date></dict>`,
    `<dict><key>b</key><data>${rng.pick(['!!!!', '====', 'A'.repeat(200_001), '\u0000'])}</data></dict>`,
    '<dict><key>k</key></dict>',
    '<dict><string>no key</string></dict>',
    '<dict><key>__proto__</key><dict><key>x</key><true/></dict></dict>',
  ]
  let body = rng.pick(bodies)
  if (rng.chance(0.25)) {
    // Entity expansion ("billion laughs"): a parser that expands entities must bound it.
    const ents = ['<!ENTITY a "aaaaaaaaaa">']
    for (let i = 1; i < 10; i++) ents.push(`<!ENTITY ${String.fromCharCode(97 + i)} "${`&${String.fromCharCode(96 + i)};`.repeat(10)}">`)
    return Buffer.from(`${head}<!DOCTYPE plist [${ents.join('')}]>\n<plist version="1.0"><string>&j;</string></plist>`)
  }
  if (rng.chance(0.2)) body = body.replace('<dict>', '<dict><key>x</key><string>&#xD800;&#0;]]></string>')
  return Buffer.from(`${head}<plist version="1.0">${body}</plist>`)
}

/**
 * A binary property list with its 32-byte trailer (offset size, reference size, object count,
 * top object, offset-table offset) or its object and offset tables bent.
 */
export function mutateBinaryPlist(rng: Rng, seed: Buffer): Buffer {
  const b = Buffer.from(seed)
  const trailer = b.length - 32
  if (trailer < 8 || rng.chance(0.35)) return mutateBytes(rng, seed, [8, Math.max(8, trailer - 64), Math.max(8, trailer)])
  const edits = 1 + rng.int(3)
  for (let i = 0; i < edits; i++) {
    switch (rng.int(5)) {
      case 0:
        b[trailer + 6] = rng.pick([0, 1, 2, 3, 4, 5, 8, 16, 255])
        break
      case 1:
        b[trailer + 7] = rng.pick([0, 1, 2, 3, 4, 8, 255])
        break
      case 2:
        b.writeBigUInt64BE(rng.pick([0n, 1n, 0xffffn, 0x7fffffffn, 0xffffffffn, 0xffffffffffffffffn, BigInt(rng.int(1000))]), trailer + 8)
        break
      case 3:
        b.writeBigUInt64BE(rng.pick([0n, 1n, 0xffffffffn, 0xffffffffffffffffn, BigInt(rng.int(64))]), trailer + 16)
        break
      default:
        b.writeBigUInt64BE(rng.pick([0n, 8n, BigInt(trailer), BigInt(trailer - 1), 0xffffffffffffffffn, BigInt(rng.int(b.length))]), trailer + 24)
    }
  }
  return rng.chance(0.3) ? mutateBytes(rng, b, [8]) : b
}
