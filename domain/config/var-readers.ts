import { z } from "zod";
import { MIN_TIMEOUT_S } from "../schemas/timeouts.ts";

// ---------------------------------------------------------------------------
// How a var is read. Workers gives every var as a string, or not at all; an
// unset var and "" both mean "the default", so an operator can blank a var
// in the dashboard instead of deleting it.
// ---------------------------------------------------------------------------

export const blank = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);

/** A var whose text `schema` reads; unset or "" reaches `schema` as undefined (its default, if it has one). */
export const parsed = <T extends z.ZodType<unknown, string | undefined>>(schema: T) => blank.pipe(schema);

const ID_MESSAGE = "must be a non-negative integer";
export const id = z.coerce.number<string>({ error: ID_MESSAGE }).int(ID_MESSAGE).min(0, ID_MESSAGE).max(Number.MAX_SAFE_INTEGER, ID_MESSAGE);
export const optionalId = parsed(id.optional());
/** A task timeout: never below the minimum every request is held to (a lower default or cap would refuse every request). */
export const seconds = (fallback: number) => parsed(z.coerce.number<string>().min(MIN_TIMEOUT_S, `must be at least ${MIN_TIMEOUT_S}`).max(3600).default(fallback));
export const positiveInt = (fallback: number) => parsed(z.coerce.number<string>().int().positive().default(fallback));
export const url = parsed(z.url().optional());
export const flag = parsed(
  z
    .enum(["true", "false", "1", "0"])
    .optional()
    .transform((v) => v === "true" || v === "1"),
);
export const list = blank.transform((v) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
/** A secret: kept as it was set (no trimming); unset is "". */
export const secret = z.string().default("");

/** A JSON var: unset or "" gives `schema`'s default; text that is not JSON is a problem, like JSON `schema` refuses. */
export const json = <T extends z.ZodType>(schema: T, example: string) =>
  blank
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        const value: unknown = JSON.parse(v);
        return value;
      } catch {
        ctx.addIssue({ code: "custom", message: `must be JSON like ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** An R2 binding's or a secret's name, as a JSON var names it (PAYLOAD_BACKENDS, GATEWAY_POOLS). */
export const BINDING_NAME = /^[A-Z][A-Z0-9_]*$/;

// ---------------------------------------------------------------------------
// How a concern's vars become its section of the configuration. Each concern
// module exports its fragment of the vars shape and a plain function from the
// parsed fragment to its section; config.ts composes them into the one schema.
// ---------------------------------------------------------------------------

/** A fragment of the vars shape, as parsed (defaults applied). */
export type VarsOf<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

/** The parsed vars with everything else the env holds (R2 bindings, secrets named by other vars). */
export type WithBindings<Shape extends z.ZodRawShape> = VarsOf<Shape> & Record<string, unknown>;

/** What every section function is given besides its vars. */
export type SectionContext = {
  /** ENVIRONMENT is "production": dev-only defaults are refused, not filled in. */
  production: boolean;
  /** Why the configuration must not serve: a section appends its own. */
  problems: string[];
};
