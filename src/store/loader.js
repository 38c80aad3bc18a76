// Which app this page starts. xtask puts this script into the built index.html in place of the one Trunk
// writes, with the built apps' names filled in and without these comments.
//
// A phone that holds nobody's data, opening the sign-in page, the home page (which leads there) or a code link
// (which asks to sign in first), gets the entry app (src/entry.rs): the sign-in page alone, a fraction of the
// member app, so a first visit on a poor link is quick. Every other visit gets the member app. Whatever is
// unsure gives the member app: it can do all the entry app does, only the first visit is slower. The entry app
// is never precached by the service worker: a phone with one has the member app at hand.
const MEMBER = '__MEMBER__';
const ENTRY = '__ENTRY__';
/** How long the question may take before the member app starts anyway (a browser's IndexedDB can hang). */
const PATIENCE_MS = 1000;

async function holdsNobodysData() {
  const path = location.pathname;
  if (path !== '/' && path !== '/signin' && !path.startsWith('/q/')) return false;
  // The service worker installed by a first visit keeps the member app (not the entry app): from then on the
  // member app starts, and with no network too.
  if (navigator.serviceWorker?.controller) return false;
  try {
    // The localStorage build's data (src/store/legacy.rs; all its keys but the two still kept there) is moved
    // into the store by the member app.
    const kept = ['gh1:locale', 'gh1:after_sign_in'];
    if (Object.keys(localStorage).some((key) => key.startsWith('gh1:') && !kept.includes(key))) return false;
    // The store's database (src/store/mod.rs); browsers that cannot list them get the member app.
    if (!indexedDB.databases) return false;
    const late = new Promise((resolve) => setTimeout(() => resolve([{ name: 'guihai' }]), PATIENCE_MS));
    return !(await Promise.race([indexedDB.databases(), late])).some((db) => db.name === 'guihai');
  } catch {
    return false;
  }
}

async function start(app) {
  // The wasm downloads while the JS glue does. It is compiled from a response of its own, with no address and
  // no place in a cache: from the service worker's cached response, V8 would add its compiled code to that entry
  // (1.4 MB for the member app, once a version, when it chooses), and a phone starts no faster with it
  // (docs/sync.md, "V8's code cache"). A failed fetch is passed as it is, for the error to name it.
  const wasm = fetch(`${app}_bg.wasm`).then((response) =>
    response.ok ? new Response(response.body, { headers: response.headers }) : response,
  );
  const { default: init } = await import(`${app}.js`);
  // This script runs as soon as it is parsed (async): the app mounts on the whole page.
  if (document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  await init({ module_or_path: wasm });
}

if (await holdsNobodysData()) {
  // The entry app could not be had (the network went): the member app, which the browser's cache may hold.
  await start(ENTRY).catch(() => start(MEMBER));
} else {
  await start(MEMBER);
}
