// The browser objects behind sdk-wasm's `net` and `tabs` modules: WebSockets, `fetch`, timers,
// Web Locks and BroadcastChannel. Rust calls these few functions and awaits their promises;
// events are queued here and pulled one at a time with `next()`.

// The text of a thrown value: an error's message, a string as it is, anything else as its JSON
// text or else its type.
const text = (e) => {
  if (e instanceof Error) return e.message;
  if (typeof e == "string") return e;
  try {
    return JSON.stringify(e) ?? typeof e;
  } catch {
    return typeof e;
  }
};

// A queue of values pulled with `next()`, a promise of the next value, or of null once `end()`
// was called and the queue is empty. One `next()` waits at a time.
const queue = () => {
  const items = [];
  let waiting, ended;
  return {
    push(v) {
      if (waiting) {
        waiting(v);
        waiting = 0;
      } else items.push(v);
    },
    end() {
      ended = 1;
      if (waiting) waiting(null);
      waiting = 0;
    },
    next: () =>
      items.length || ended
        ? Promise.resolve(items.length ? items.shift() : null)
        : new Promise((r) => (waiting = r)),
  };
};

// Every socket opened and not closed since, for `dropSockets`.
const sockets = new Set();

// Opens a WebSocket. Resolves once it is open to `{next, send, close}`: `next()` gives the next
// frame (a string, a Uint8Array, or null once closed); `send` returns an error text or nothing.
// Rejects with the error text.
export const openSocket = (url) =>
  new Promise((opened, failed) => {
    let ws, up;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      return failed("WebSocket: " + text(e));
    }
    const frames = queue();
    const fail = (reason) => {
      if (!up) {
        ws.close();
        failed(url + ": " + reason);
      }
    };
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => frames.push(typeof e.data == "string" ? e.data : new Uint8Array(e.data));
    ws.onerror = () => fail("connection failed");
    ws.onclose = (e) => {
      sockets.delete(ws);
      frames.end();
      fail(`closed before opening (code ${e.code}${e.reason ? ": " + e.reason : ""})`);
    };
    ws.onopen = () => {
      up = 1;
      sockets.add(ws);
      opened({
        next: frames.next,
        send(data) {
          if (ws.readyState != 1) return "the socket is not open";
          try {
            ws.send(data);
          } catch (e) {
            return text(e);
          }
        },
        // Closes with `code` (none when undefined) unless already closing.
        close(code) {
          sockets.delete(ws);
          if (ws.readyState < 2) ws.close(code);
        },
      });
    };
  });

// Closes every open socket as a network failure would (code 4000); returns how many.
export const dropSockets = () => {
  const n = sockets.size;
  for (const ws of sockets) ws.close(4000, "dropped");
  sockets.clear();
  return n;
};

// POSTs JSON `body` to `url` with `headers` ("name\nvalue\n…"). Resolves to the response text
// on status 200; rejects with "network: …" (or headers, request, body) or "HTTP <status>".
export const post = async (url, headers, body) => {
  let step = "headers",
    response;
  try {
    const h = new Headers({ "Content-Type": "application/json" }),
      list = headers.split("\n");
    for (let i = 1; i < list.length; i += 2) h.set(list[i - 1], list[i]);
    step = "request";
    const request = new Request(url, { method: "POST", body, headers: h });
    step = "network";
    response = await fetch(request);
    step = "body";
    const body_text = await response.text();
    if (response.status == 200) return body_text;
  } catch (e) {
    throw step + ": " + text(e);
  }
  throw "HTTP " + response.status;
};

// The timer worker: started with the first `sleep(ms, true)`, null when it could not start.
// The page posts `[id, ms]`; the worker answers `id` after `ms`.
let worker,
  timers = {},
  timer = 0;

// Whether the timer worker runs.
export const hasTimerWorker = () => !!worker;

// Resolves after `ms` milliseconds: in the timer worker when `inWorker` and it runs, with the
// page's `setTimeout` otherwise.
export const sleep = (ms, inWorker) =>
  new Promise((done) => {
    if (inWorker && worker === undefined) {
      worker = null;
      try {
        const url = URL.createObjectURL(
          new Blob(["onmessage=e=>setTimeout(()=>postMessage(e.data[0]),e.data[1])"], {
            type: "text/javascript",
          }),
        );
        try {
          worker = new Worker(url);
        } finally {
          URL.revokeObjectURL(url);
        }
        worker.onmessage = (e) => {
          const f = timers[e.data];
          delete timers[e.data];
          f?.();
        };
      } catch {}
    }
    if (inWorker && worker) {
      timers[++timer] = done;
      worker.postMessage([timer, ms]);
    } else setTimeout(done, ms);
  });

// Queues for the exclusive Web Lock `name`. Returns `{granted, release}`: `granted` resolves
// once this tab holds the lock (at once without Web Locks); `release()` lets it go, or, while
// still queued, makes the grant let it go at once.
export const lock = (name) => {
  const locks = globalThis.navigator?.locks;
  let released, release;
  return {
    granted: locks
      ? new Promise((granted) =>
          locks.request(name, () => {
            granted();
            if (!released) return new Promise((r) => (release = r));
          }),
        )
      : Promise.resolve(),
    release() {
      released = 1;
      release?.();
    },
  };
};

// Joins the BroadcastChannel `name`. Returns `{next, post, close}`: `next()` gives the next text
// another tab posted (null once closed); `post` sends text to the other tabs.
export const channel = (name) => {
  const texts = queue();
  let c;
  try {
    c = new BroadcastChannel(name);
    c.onmessage = (e) => typeof e.data == "string" && texts.push(e.data);
  } catch {
    texts.end();
  }
  return {
    next: texts.next,
    post(t) {
      try {
        c?.postMessage(t);
      } catch {}
    },
    close() {
      c?.close();
      texts.end();
    },
  };
};
