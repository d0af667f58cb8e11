// IndexedDB for the SDK's store (sdk-wasm/src/store/idb.rs binds these exports).
//
// Rust speaks JSON text to this module: the schema, the requests of a transaction and their
// results. This module turns them into IndexedDB calls and records, and records back into JSON.
// Every failure is thrown or rejected as text, `Name: message` for an exception.

const text = (e) => (e && e.name ? `${e.name}: ${e.message}` : String(e));

const factory = () => {
  if (!globalThis.indexedDB) throw "IndexedDB is not available here";
  return indexedDB;
};

// The outcome of a request: its result, or its error as text.
const settle = (r) =>
  new Promise((ok, no) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(text(r.error));
  });

// Brings the database being upgraded to `schema`: `{stores: [[name, keyPath]], indexes:
// [[store, name, keyPath, unique]]}` (keyPath `null` for out-of-line keys). Missing stores and
// indexes are created, indexes whose definition changed are made again, anything undeclared is
// deleted; records of existing stores stay.
function upgrade(db, tx, { stores, indexes }) {
  const declared = stores.map(([name]) => name);
  for (const [name, key] of stores) {
    const store = db.objectStoreNames.contains(name)
      ? tx.objectStore(name)
      : db.createObjectStore(name, key == null ? {} : { keyPath: key });
    const wanted = [];
    for (const [of, index, path, unique] of indexes) {
      if (of != name) continue;
      wanted.push(index);
      if (store.indexNames.contains(index)) {
        const found = store.index(index);
        const same =
          JSON.stringify(found.keyPath) == JSON.stringify(path) &&
          found.unique == unique &&
          !found.multiEntry;
        if (same) continue;
        store.deleteIndex(index);
      }
      store.createIndex(index, path, { unique, multiEntry: false });
    }
    for (const index of [...store.indexNames]) if (!wanted.includes(index)) store.deleteIndex(index);
  }
  for (const name of [...db.objectStoreNames]) if (!declared.includes(name)) db.deleteObjectStore(name);
}

// Opens (creating or upgrading) the database `name` at `version` with the schema `schema` (JSON
// text). The connection closes itself when another tab upgrades or deletes the database, so
// that never waits for it.
export async function open(name, version, schema) {
  try {
    const r = factory().open(name, version);
    r.onupgradeneeded = () => {
      try {
        upgrade(r.result, r.transaction, JSON.parse(schema));
      } catch {
        // The open request then fails with the abort.
        r.transaction.abort();
      }
    };
    const db = await settle(r);
    db.onversionchange = () => db.close();
    return db;
  } catch (e) {
    throw text(e);
  }
}

// Deletes the database `name`; settles once every connection to it has closed.
export async function remove(name) {
  try {
    await settle(factory().deleteDatabase(name));
  } catch (e) {
    throw text(e);
  }
}

// The object store names of `db`, sorted, as JSON text.
export const storeNames = (db) => JSON.stringify([...db.objectStoreNames]);

export const close = (db) => db.close();

// A transaction over `stores` (names joined by ","); `tx.done` settles with whether it committed.
export function begin(db, stores, write) {
  try {
    const tx = db.transaction(stores.split(","), write ? "readwrite" : "readonly");
    tx.done = new Promise((ok) => {
      tx.oncomplete = () => ok(true);
      tx.onabort = () => ok(false);
    });
    return tx;
  } catch (e) {
    throw text(e);
  }
}

// Aborts `tx` when `abort` (unless it has finished); settles with whether it committed.
export function end(tx, abort) {
  if (abort) {
    try {
      tx.abort();
    } catch {}
  }
  return tx.done;
}

// A query: `null` for everything, `{l, u, o}` for the keys from `l` up to `u` (left out when
// `o`), anything else a key.
const query = (q) => (q == null ? undefined : q.l !== undefined ? IDBKeyRange.bound(q.l, q.u, false, !!q.o) : q);

// A message record: raw content as a `Uint8Array`, options as a `Map`, and no clientMsgID when
// it is empty (so that only messages with one enter the unique clientMsgID index).
function message(m) {
  if (m.client_msg_id === "") delete m.client_msg_id;
  if (m.content.Raw) m.content.Raw = Uint8Array.from(m.content.Raw);
  m.options = new Map(Object.entries(m.options));
  return m;
}

// Records as JSON: `Map`s as objects, `Uint8Array`s as arrays of numbers.
const plain = (_, v) => (v instanceof Map ? Object.fromEntries(v) : v instanceof Uint8Array ? Array.from(v) : v);

// Issues the requests `ops` (JSON text) in `tx` at once, in order; settles with their results
// as JSON text, or rejects with the first failure. A request is `[op, store, query, arg, shape]`,
// `store` as `name` or `name/index`:
// `get` (`[record]`, `null` for none), `all` (the records, at most `arg`), `keys` (their keys),
// `count`, `last` (the key of the last record, `null` for none), `put` (record `arg` under key
// `query`, `null` for inline keys; `shape` "m" for a message, "o" for an outbox entry, whose
// `null` last_error is stored as `undefined`), `del` and `clear` (results `null`).
export function run(tx, ops) {
  return new Promise((resolve, reject) => {
    const results = [];
    let left = 0;
    const done = () => {
      try {
        resolve(JSON.stringify(results, plain));
      } catch (e) {
        reject(text(e));
      }
    };
    try {
      for (const [op, name, q, arg, shape] of JSON.parse(ops)) {
        const [of, index] = name.split("/");
        const source = index ? tx.objectStore(of).index(index) : tx.objectStore(of);
        let r;
        if (op == "put") {
          if (shape == "m") message(arg);
          if (shape == "o" && arg.last_error === null) arg.last_error = undefined;
          r = source.put(arg, q ?? undefined);
        } else if (op == "all" || op == "keys") {
          r = source[op == "all" ? "getAll" : "getAllKeys"](query(q), arg ?? undefined);
        } else if (op == "last") {
          r = source.openCursor(query(q), "prev");
        } else {
          r = source[op == "del" ? "delete" : op](query(q));
        }
        const at = results.push(null) - 1;
        left++;
        r.onsuccess = () => {
          const found = r.result;
          if (op == "last") results[at] = found ? found.key : null;
          else if (op == "get") results[at] = found === undefined ? null : [found];
          else if (found !== undefined && op != "put") results[at] = found;
          if (!--left) done();
        };
        r.onerror = () => reject(text(r.error));
      }
    } catch (e) {
      reject(text(e));
    }
    if (!left) done();
  });
}
