/**
 * The Standard Schema interface (https://standardschema.dev), declared here as
 * types only so the core validates zod, valibot or arktype schemas without
 * importing any of them.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** The parsed output type of a Standard Schema. */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : unknown;

/** Validation messages keyed by dotted field path; `""` holds errors about the whole input. */
export type FieldErrors = Record<string, string[]>;

/** The outcome of validating an input: the parsed value or the field errors. */
export type Validation<O> = { ok: true; value: O } | { ok: false; errors: FieldErrors };

/**
 * Validates `value` against `schema`, giving the parsed value or the field errors: at once
 * when the schema validates synchronously (zod without async refinements; a step's write can
 * then start within the click), else a promise of them. `await` it either way.
 */
export function validateInput<O>(schema: StandardSchemaV1<unknown, O>, value: unknown): Validation<O> | Promise<Validation<O>> {
  const result = schema['~standard'].validate(value);
  return result instanceof Promise ? result.then(toValidation) : toValidation(result);
}

function toValidation<O>(result: StandardResult<O>): Validation<O> {
  if (!result.issues) return { ok: true, value: result.value };
  const errors: FieldErrors = {};
  for (const issue of result.issues) {
    const key = (issue.path ?? [])
      .map((p) => String(typeof p === 'object' ? p.key : p))
      .join('.');
    errors[key] = [...(errors[key] ?? []), issue.message];
  }
  return { ok: false, errors };
}
