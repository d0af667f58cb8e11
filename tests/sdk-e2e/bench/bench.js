// Cold start of the SDK in a fresh profile: times (performance.now(), i.e. milliseconds since
// navigation start) when the package module is loaded, when `getSDK().ready` resolves (wasm
// fetched, compiled and instantiated), and when the user's IndexedDB database (`chorus-<user>`,
// the name the SDK uses) is open. Publishes `window.benchResult` for bench.mjs.
const user = new URLSearchParams(location.search).get('user') || 'bench';

function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => {
      request.result.close();
      resolve();
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(`opening ${name} is blocked`));
  });
}

async function measure() {
  const marks = { script: performance.now() };
  const { getSDK } = await import('/pkg/index.js');
  marks.imported = performance.now();
  const sdk = getSDK();
  await sdk.ready;
  marks.ready = performance.now();
  await openDatabase(`chorus-${user}`);
  marks.databaseOpen = performance.now();
  // Long tasks are reported after they end; give the observer one more turn.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const longTasks = window.benchLongTasks.filter((t) => t.start < marks.databaseOpen);
  return { ok: true, marks, longTasks, longTasksObserved: window.benchLongTasksObserved };
}

measure().then(
  (result) => {
    window.benchResult = result;
    document.getElementById('state').textContent = 'done';
  },
  (err) => {
    window.benchResult = { ok: false, error: String(err?.stack ?? err?.errMsg ?? err) };
    document.getElementById('state').textContent = 'failed';
  },
);
