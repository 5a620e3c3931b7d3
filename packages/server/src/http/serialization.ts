/**
 * Response serialisers, compiled once per distinct schema and process. Fastify compiles one
 * serialiser per route and status code, and nearly every route declares the same error answer
 * for ten or more statuses: compiled one by one that was most of a server's start-up (about
 * 0.7 s of 2 s), and every app built in the process (a test suite builds hundreds) compiled
 * them all again. A serialiser depends only on its schema, the shared schemas it may reference
 * and the compiler's options, which together are the cache's key.
 */
import SerializerSelector from "@fastify/fast-json-stringify-compiler";

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Serializer = ReturnType<ReturnType<SerializerFactory>>;

/** Serialisers by the shared schemas and options they were compiled with, then by schema. */
const compiledSerializers = new Map<string, Map<string, Serializer>>();

export function sharedSerializerFactory(): SerializerFactory {
  const compileFactory = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = compileFactory(externalSchemas, options);
    const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
    let compiled = compiledSerializers.get(context);
    if (!compiled) {
      compiled = new Map();
      compiledSerializers.set(context, compiled);
    }
    const forContext = compiled;
    return (route) => {
      const key = JSON.stringify(route.schema);
      let serializer = forContext.get(key);
      if (!serializer) {
        serializer = compile(route);
        forContext.set(key, serializer);
      }
      return serializer;
    };
  };
}
