/**
 * Values read from a query string, which carries every value as text: whole numbers within
 * bounds, decimal numbers left to a later check (e.g. a signal type's match radius), and
 * `true`/`false`. Each is a pipe from the text to the value it stands for, so that the OpenAPI
 * document can describe a parameter by that value (an integer and its bounds, not a pattern).
 */
import { z } from 'zod';

/** Digits of the largest safe integer: longer text is never a number the API reads. */
const MAX_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

/** A whole number `min`–`max` written in decimal digits. */
export function queryInteger(min: number, max: number) {
  return z
    .string()
    .regex(new RegExp(`^\\d{1,${MAX_DIGITS}}$`), 'Expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A decimal number (`12`, `-1`, `1.5`) checked further by `value`. */
export function queryNumber<T extends z.ZodType<unknown, number>>(value: T) {
  return z
    .string()
    .regex(new RegExp(`^-?\\d{1,${MAX_DIGITS}}(\\.\\d{1,${MAX_DIGITS}})?$`), 'Expected a number')
    .transform(Number)
    .pipe(value);
}

export const queryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');
