// The README's urql setup (Graphcache), type-checked against the generated documents.
import { Client, fetchExchange } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";

import { SearchDocument } from "./gql/graphql";

// objects without an `id` are values inside their parent, not entities of their own
const values = [
  "ConvertedMoney", "Evidence", "ExcludedFigure", "Money", "PageInfo", "Participant", "Quantity",
  "SearchHit", "SeriesContribution", "TradeSeriesPoint",
];

export const client = new Client({
  url: "http://localhost:8000/graphql",
  preferGetMethod: true,
  exchanges: [
    cacheExchange({
      keys: Object.fromEntries(values.map((name) => [name, () => null])),
      resolvers: {
        Query: {
          // node(id:) reads any cached object by its global id: the id names its type
          node: (_, args) => ({ __typename: atob(String(args.id).replace(/-/g, "+").replace(/_/g, "/")).split(":")[0], id: args.id }),
          articles: relayPagination(),
          events: relayPagination(),
          search: relayPagination(),
        },
      },
    }),
    fetchExchange,
  ],
});

export async function hitCount(query: string): Promise<number> {
  const result = await client.query(SearchDocument, { query, first: 20 }).toPromise();
  return result.data?.search.edges.length ?? 0;
}
