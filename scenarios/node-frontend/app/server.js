// Serves the built files in dist/ (single variant only; multi serves them with busybox httpd).
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "dist");
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

http
  .createServer((request, response) => {
    const name = request.url === "/" ? "index.html" : path.basename(request.url);
    fs.readFile(path.join(root, name), (error, body) => {
      if (error) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "Content-Type": types[path.extname(name)] || "application/octet-stream" });
      response.end(body);
    });
  })
  .listen(8080);
