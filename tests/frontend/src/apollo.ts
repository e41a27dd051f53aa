// The README's Apollo Client setup, type-checked against the generated documents.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination } from "@apollo/client/utilities";

import { ArticleListDocument, type ArticleListQuery } from "./gql/graphql";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export const client = new ApolloClient({
  // automatic persisted queries, sent with GET so that a CDN (and the browser) can cache answers
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: "http://localhost:8000/graphql" }),
  ),
  cache: new InMemoryCache({
    // every `id` is a global id, unique across types: it alone is the cache key
    dataIdFromObject: (object) => (typeof object.id === "string" ? object.id : undefined),
    possibleTypes: { Node: ["Article", "Event", "Organisation", "Person", "Place", "TradeFigure"] },
    typePolicies: {
      Query: {
        fields: {
          // node(id:) and nodes(ids:) read what any other query already put in the cache
          node: { read: (_, { args, toReference }) => (args?.id ? toReference(String(args.id)) : undefined) },
          nodes: {
            read: (_, { args, toReference }) =>
              Array.isArray(args?.ids) ? args.ids.map((id: string) => toReference(id)) : undefined,
          },
          articles: relayStylePagination(["filter", "orderBy"]),
          events: relayStylePagination(["filter", "orderBy"]),
          places: relayStylePagination(["filter", "orderBy"]),
          organisations: relayStylePagination(["filter", "orderBy"]),
          tradeFigures: relayStylePagination(["filter", "orderBy"]),
          search: relayStylePagination(["query"]),
        },
      },
    },
  }),
});

export async function firstTitles(): Promise<string[]> {
  const { data } = await client.query({ query: ArticleListDocument, variables: { first: 20 } });
  const page: ArticleListQuery["articles"] | undefined = data?.articles;
  return (page?.edges ?? []).flatMap((edge) => edge.node.title ?? []);
}
