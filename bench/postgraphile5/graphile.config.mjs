// @ts-check
// PostGraphile v5 for the benchmark: the Amber preset, node-postgres through the @dataplan/pg
// adaptor, and what production needs only (no GraphiQL, no watch mode, no explain, no websockets).
// DATABASE_URL carries the session settings (read-only, statement timeout, jit=off, no parallel workers) as `options`.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: 10 }, // v4's default pool
    }),
  ],
  schema: {
    // v4's --no-setof-functions-contain-nulls
    pgForbidSetofFunctionsToReturnNull: true,
  },
  grafast: {
    explain: false,
  },
  grafserv: {
    graphqlPath: "/graphql",
    graphiql: false,
    graphqlOverGET: false,
    websockets: false,
    watch: false,
  },
};

export default preset;
