// serve-dir.mjs DIR PORTFILE: serves DIR's files over HTTP on 127.0.0.1 at a free port,
// written to PORTFILE once listening, for the installer's end-to-end test (a release
// served as GitHub serves releases/download/VERSION/FILE). Logs each request to stderr.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const [dir, portFile] = process.argv.slice(2);
const root = fs.realpathSync(dir);
const server = http.createServer((req, res) => {
  const file = path.join(root, decodeURIComponent(new URL(req.url, "http://x").pathname));
  process.stderr.write(`serve-dir: ${req.method} ${req.url}\n`);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
server.listen(0, "127.0.0.1", () => fs.writeFileSync(portFile, `${server.address().port}\n`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
