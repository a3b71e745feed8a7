// GraphQL Code Generator plugin: writes schema.graphql, verbatim, as a TypeScript module
// (`export const typeDefs`). The services run both bundled (esbuild) and from source (tsx), and
// only a .ts module loads the same way in both; the .graphql file stays the one source.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** @type {import('@graphql-codegen/plugin-helpers').PluginFunction<{ source: string }>} */
export function plugin(_schema, _documents, config) {
  const sdl = readFileSync(path.resolve(config.source), 'utf8');
  // A template literal keeps the SDL readable in the generated file; escape what it would interpret.
  const literal = sdl.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
  return `export const typeDefs = /* GraphQL */ \`${literal}\`;\n`;
}
