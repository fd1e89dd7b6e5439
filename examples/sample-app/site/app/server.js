// The sample web application: one page that shows which version is serving, and /health for the load
// balancer. No dependencies, so the instance needs only Node.js.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const version = fs.readFileSync(path.join(__dirname, 'VERSION'), 'utf8').trim();
// On a sandbox instance "port 80" is a loopback port of its own; on a real instance it is port 80.
const port = Number(process.env.KEYLESS_INSTANCE_PORT || process.env.PORT || 80);
const host = process.env.KEYLESS_INSTANCE_PORT ? '127.0.0.1' : '0.0.0.0';

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Keyless sample application ${version}</title></head>
<body style="font-family: sans-serif; margin: 3rem">
  <h1>Keyless sample application</h1>
  <p>Deployed from Azure Pipelines to AWS with no stored keys.</p>
  <p>Version: <strong id="version">${version}</strong></p>
</body>
</html>
`;

http
  .createServer((request, response) => {
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    } else if (request.url === '/version') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(version);
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-app-version': version });
      response.end(page);
    }
  })
  .listen(port, host, () => console.log(`sample app ${version} listening on ${host}:${port}`));
