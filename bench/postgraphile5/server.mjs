// PostGraphile v5 served by grafserv's Node adaptor on node:http, in WORKERS processes (node:cluster,
// as v4's --cluster-workers), listening on HOST:PORT; `node server.mjs --export-schema FILE` writes
// the GraphQL schema PostGraphile builds from the database instead.
import cluster from "node:cluster";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { printSchema } from "graphql";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const workers = Number(process.env.WORKERS ?? "1");
const port = Number(process.env.PORT ?? "5678");
const host = process.env.HOST ?? "127.0.0.1";

if (process.argv[2] === "--export-schema") {
  const pgl = postgraphile(preset);
  await writeFile(process.argv[3], printSchema(await pgl.getSchema()));
  await pgl.release();
} else if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
} else {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.on("error", (e) => {
    console.error(e);
    process.exit(1);
  });
  await serv.addTo(server);
  await pgl.getSchema(); // introspect before listening: ready means able to answer
  server.listen(port, host, () => console.log(`PostGraphile v5 listening on http://${host}:${port}/graphql`));
}
