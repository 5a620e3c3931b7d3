/**
 * Response serialisers, compiled once per distinct schema. Fastify compiles one serialiser per
 * route and status code, and nearly every route declares the same error answer for ten or more
 * statuses: compiled one by one that was most of a server's start-up (about 0.7 s of 2 s).
 * A serialiser depends only on its schema and the shared schemas it may reference, so routes
 * whose schemas are equal share one.
 */
import SerializerSelector from "@fastify/fast-json-stringify-compiler";

type SerializerFactory = ReturnType<typeof SerializerSelector>;

export function sharedSerializerFactory(): SerializerFactory {
  const compileFactory = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = compileFactory(externalSchemas, options);
    const compiled = new Map<string, ReturnType<typeof compile>>();
    return (route) => {
      const key = JSON.stringify(route.schema);
      let serializer = compiled.get(key);
      if (!serializer) {
        serializer = compile(route);
        compiled.set(key, serializer);
      }
      return serializer;
    };
  };
}
