/**
 * Zod builders for environment strings. Each field treats unset or blank as "use the default", so
 * `FOO=` in a compose file behaves like leaving FOO out, and reports bad values with what it got.
 */
import { z } from 'zod';

/** An env field: reads `string | undefined`, produces a typed value. */
type EnvField<T> = z.ZodType<T, z.ZodTypeDef, string | undefined>;

const GOT_MAX = 60;

/** Quote a bad value for an error line, clipped so a pasted blob cannot flood the log. */
function got(raw: string): string {
  const clipped = raw.length > GOT_MAX ? `${raw.slice(0, GOT_MAX)}...` : raw;
  return `(got ${JSON.stringify(clipped)})`;
}

/** URLs may carry a password; never echo it back in an error. */
function redactUserInfo(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

function field<T>(
  defaultValue: T,
  parse: (value: string) => { ok: true; value: T } | { ok: false; problem: string },
): EnvField<T> {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined || raw.trim() === '') return defaultValue;
      const result = parse(raw.trim());
      if (result.ok) return result.value;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: result.problem });
      return z.NEVER;
    });
}

function describeRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` ${min}-${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

function int(opts: { default: number; min?: number; max?: number }): EnvField<number> {
  const expected = `must be an integer${describeRange(opts.min, opts.max)}`;
  return field(opts.default, (raw) => {
    const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
    const inRange =
      Number.isSafeInteger(value) &&
      (opts.min === undefined || value >= opts.min) &&
      (opts.max === undefined || value <= opts.max);
    return inRange ? { ok: true, value } : { ok: false, problem: `${expected} ${got(raw)}` };
  });
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

function string(defaultValue: string): EnvField<string>;
function string(): EnvField<string | undefined>;
function string(defaultValue?: string): EnvField<string | undefined> {
  return field<string | undefined>(defaultValue, (raw) => ({ ok: true, value: raw }));
}

export const envField = {
  port(defaultPort: number): EnvField<number> {
    return int({ default: defaultPort, min: 1, max: 65535 });
  },

  int,

  bool(defaultValue: boolean): EnvField<boolean> {
    return field(defaultValue, (raw) => {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, problem: `must be one of true, false, 1, 0, yes, no ${got(raw)}` };
    });
  },

  string,

  list(defaultValue: string[]): EnvField<string[]> {
    return field(defaultValue, (raw) => {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length > 0
        ? { ok: true, value: items }
        : { ok: false, problem: `must be a comma-separated list with at least one entry ${got(raw)}` };
    });
  },

  /** A comma-separated list, undefined when unset. */
  optionalList(): EnvField<string[] | undefined> {
    return field<string[] | undefined>(undefined, (raw) => {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length > 0
        ? { ok: true, value: items }
        : { ok: false, problem: `must be a comma-separated list with at least one entry ${got(raw)}` };
    });
  },

  enumOf<T extends string>(values: readonly T[], defaultValue: T): EnvField<T> {
    return field(defaultValue, (raw) => {
      // Accept `DEBUG` for `debug`: env values are often upper-cased by habit.
      const match = values.find((value) => value.toLowerCase() === raw.toLowerCase());
      return match !== undefined
        ? { ok: true, value: match }
        : { ok: false, problem: `must be one of ${values.join(', ')} ${got(raw)}` };
    });
  },

  postgresUrl(defaultValue: string): EnvField<string> {
    return field(defaultValue, (raw) => {
      if (/^postgres(ql)?:\/\/\S+$/.test(raw)) return { ok: true, value: raw };
      return { ok: false, problem: `must start with postgres:// or postgresql:// ${got(redactUserInfo(raw))}` };
    });
  },
};
