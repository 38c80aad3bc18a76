// The peer's server for the 10,000-check-in comparison: a CouchDB-compatible server (express-pouchdb over
// PouchDB's in-memory adapter, the fastest it has) on a loopback port, which also serves the page that runs
// PouchDB in the browser (same origin, so no CORS in the way). Prints `listening <port>` once it listens.
// Started by `tests/bench/peer.mjs`, in a process of its own, as our server is.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import express from 'express';
import expressPouchDB from 'express-pouchdb';
import PouchDB from 'pouchdb-core';
import http from 'pouchdb-adapter-http';
import memory from 'pouchdb-adapter-memory';
import mapreduce from 'pouchdb-mapreduce';
import replication from 'pouchdb-replication';

const require = createRequire(import.meta.url);
const browserBuild = readFileSync(require.resolve('pouchdb/dist/pouchdb.min.js'));
const Pouch = PouchDB.plugin(memory).plugin(http).plugin(mapreduce).plugin(replication).defaults({ adapter: 'memory' });

const app = express();
app.get('/peer.html', (_, response) =>
  response.type('html').send('<!doctype html><meta charset="utf-8"><title>peer</title><script src="/pouchdb.min.js"></script>'),
);
app.get('/pouchdb.min.js', (_, response) => response.type('js').send(browserBuild));
app.use('/db', expressPouchDB(Pouch, { mode: 'minimumForPouchDB', inMemoryConfig: true }));
const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
