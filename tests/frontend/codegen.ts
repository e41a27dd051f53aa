// The README's codegen config, run by tests/test_frontend_codegen.py against the committed schema
// (a frontend points `schema` at http://localhost:8000/graphql, or at schema/schema.graphql).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: ["../../schema/operations/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      config: {
        // Date is "YYYY-MM-DD", DateTime ISO 8601, Decimal an exact decimal string: keep them as strings
        scalars: { Date: "string", DateTime: "string", Decimal: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
