/**
 * The instants of ASN.1 UTCTime and GeneralizedTime texts (X.680 §46–47, X.690 §11.7–11.8), read
 * as esdctl has always read them in DER plists (profiles and entitlements), leniencies included, so
 * a value read before is read the same today:
 *
 * - UTCTime: the first `YYMMDDhhmmssZ` anywhere in the text (`z` too); years 50–99 are 19xx, 00–49
 *   20xx. A text without one is not refused: it reads as all-zero fields, i.e. 1899-11-30T00:00:00Z.
 * - GeneralizedTime: `YYYYMMDD`, `YYYYMMDDhh`, `YYYYMMDDhhmm` or `YYYYMMDDhhmmss`, a fraction (`.`)
 *   of the last field given, then `Z`, or an offset `±hh`/`±hhmm` (applied to the hour and, when the
 *   minutes are present, the minute), or nothing (local time). Anything else throws a
 *   TimeTextError. Years 0–99 are those years, not 19xx.
 */

export class TimeTextError extends Error {
  constructor() {
    // The wording every release has printed for a damaged GeneralizedTime.
    super('Wrong input string for conversion')
  }
}

interface TimeFields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
}

const zeroFields = (): TimeFields => ({year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0})

/** The instant of a UTCTime text (latin-1 decoded contents); never throws. */
export function utcTimeDate(text: string): Date {
  const f = zeroFields()
  const m = /(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z/i.exec(text)
  if (m) {
    const yy = Number.parseInt(m[1]!, 10)
    f.year = yy >= 50 ? 1900 + yy : 2000 + yy
    ;[f.month, f.day, f.hour, f.minute, f.second] = m.slice(2, 7).map(s => Number.parseInt(s, 10)) as [number, number, number, number, number]
  }
  return new Date(Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second))
}

/** The instant of a GeneralizedTime text (latin-1 decoded contents). Throws TimeTextError. */
export function generalizedTimeDate(text: string): Date {
  const f = generalizedTimeFields(text)
  const d = new Date(Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.millisecond))
  // Date.UTC reads years 0–99 as 1900–1999; GeneralizedTime means them literally.
  if (f.year < 100) d.setUTCFullYear(f.year)
  return d
}

function generalizedTimeFields(text: string): TimeFields {
  const f = zeroFields()
  const utc = text.endsWith('Z')
  let body = utc ? text.slice(0, -1) : text
  let hourShift = 0
  let minuteShift = 0
  if (utc) {
    if (body.includes('+') || body.includes('-')) throw new TimeTextError()
  } else {
    if (Number.isNaN(Number(text.at(-1)))) throw new TimeTextError()
    let sign = 1
    let at = body.indexOf('+')
    if (at === -1) {
      at = body.indexOf('-')
      sign = -1
    }
    if (at !== -1) {
      const zone = body.slice(at + 1)
      body = body.slice(0, at)
      if (zone.length !== 2 && zone.length !== 4) throw new TimeTextError()
      hourShift = sign * numberOrFail(Number.parseInt(zone.slice(0, 2), 10))
      if (zone.length === 4) minuteShift = sign * numberOrFail(Number.parseInt(zone.slice(2, 4), 10))
    }
  }
  let point = body.indexOf('.')
  if (point === -1) point = body.indexOf(',')
  const fraction = point === -1 ? 0 : numberOrFail(Number(`0${body.slice(point)}`))
  const digits = point === -1 ? body : body.slice(0, point)
  // The fraction belongs to the last field present: hours, minutes or seconds; a date alone takes none.
  if (digits.length === 8) {
    if (point !== -1) throw new TimeTextError()
  } else if (digits.length === 10) {
    if (point !== -1) {
      let x = 60 * fraction
      f.minute = Math.floor(x)
      x = 60 * (x - f.minute)
      f.second = Math.floor(x)
      f.millisecond = Math.floor(1000 * (x - f.second))
    }
  } else if (digits.length === 12) {
    if (point !== -1) {
      const x = 60 * fraction
      f.second = Math.floor(x)
      f.millisecond = Math.floor(1000 * (x - f.second))
    }
  } else if (digits.length === 14) {
    if (point !== -1) f.millisecond = Math.floor(1000 * fraction)
  } else {
    throw new TimeTextError()
  }
  if (!/^[0-9]+$/.test(digits)) throw new TimeTextError()
  const two = (at: number) => Number.parseInt(digits.slice(at, at + 2), 10)
  f.year = Number.parseInt(digits.slice(0, 4), 10)
  f.month = two(4)
  f.day = two(6)
  if (digits.length >= 10) f.hour = two(8) + hourShift
  if (digits.length >= 12) f.minute = two(10) + minuteShift
  if (digits.length >= 14) f.second = two(12)
  if (!utc) localToFields(f)
  return f
}

/**
 * A text without `Z` was read as local time through the local calendar, whose month numbering is
 * one off and whose day field came from the weekday; kept so the same bytes give the same instant.
 */
function localToFields(f: TimeFields): void {
  const t = new Date(f.year, f.month, f.day, f.hour, f.minute, f.second, f.millisecond)
  f.year = t.getUTCFullYear()
  f.month = t.getUTCMonth()
  f.day = t.getUTCDay()
  f.hour = t.getUTCHours()
  f.minute = t.getUTCMinutes()
  f.second = t.getUTCSeconds()
  f.millisecond = t.getUTCMilliseconds()
}

function numberOrFail(n: number): number {
  if (Number.isNaN(n)) throw new TimeTextError()
  return n
}
