import type { CodegenConfig } from "@graphql-codegen/cli";

// Types for the committed schema and the operations both example clients
// share; written to src/generated/, a build output (not committed).
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "../operations/*.graphql",
  generates: {
    "src/generated/": {
      preset: "client",
      // persistedDocuments: each document gets its id ("sha256:<hash>" of its normalized text), and
      // persisted-documents.json maps the ids to the texts: the manifest the server is given
      // (SWITCHBOARD_PERSISTED_DOCUMENTS; docs/clients.md).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: "sha256" } },
      config: {
        // Plain strings, sent with fetch: no GraphQL runtime in the program.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown" },
        strictScalars: true,
      },
    },
  },
};

export default config;
