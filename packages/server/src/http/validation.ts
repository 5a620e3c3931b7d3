/**
 * Request validation. Bodies are validated strictly (a number is not a string: wrong types
 * are 400, as the contract's clients expect); query strings and headers are coerced, since
 * everything there arrives as text and repeated keys arrive as arrays.
 */
import AjvModule, { type AnySchema, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

// ajv is CommonJS: under NodeNext its class is the module's `default`.
const Ajv = AjvModule.default;
type Ajv = InstanceType<typeof Ajv>;

function newAjv(coerceTypes: boolean | "array"): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Compiles each distinct schema once per process: many routes declare equal parameter and
 * query schemas as separate objects, which Ajv (caching by object) would compile again for
 * each, and every app built in the process (a test suite builds hundreds) would compile them
 * all again. A request schema references no shared schema (those describe answers), so its
 * validator depends on its text and the coercion mode alone.
 */
function compilerFor(ajv: Ajv) {
  const compiled = new Map<string, ValidateFunction>();
  return (schema: AnySchema): ValidateFunction => {
    const id = typeof schema === "object" && schema !== null ? (schema as { $id?: string }).$id : undefined;
    const registered = id ? ajv.getSchema(id) : undefined;
    if (registered) return registered;
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  };
}

let compilers: {
  strict: (schema: AnySchema) => ValidateFunction;
  coercing: (schema: AnySchema) => ValidateFunction;
};

export function validatorCompiler(): FastifySchemaCompiler<AnySchema> {
  compilers ??= { strict: compilerFor(newAjv(false)), coercing: compilerFor(newAjv("array")) };
  const { strict, coercing } = compilers;
  return ({ schema, httpPart }) => (httpPart === "body" ? strict(schema) : coercing(schema));
}
