// Vite configuration of the Chorus example app.
//
// The SDK fetches its WebAssembly module with `new URL('…_bg.wasm', import.meta.url)`; in a build
// Vite sees that pattern and emits the .wasm as a hashed asset beside the bundle. The dev server
// must not pre-bundle the package (that would move the module away from its .wasm) and must be
// allowed to serve the linked package directory, which lies outside this project.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../../pkg', import.meta.url));

export default defineConfig({
  optimizeDeps: { exclude: ['@chorus/sdk'] },
  server: { fs: { allow: ['.', pkg] } },
  build: {
    target: 'es2022',
    // Keep the wasm a separate file even if it were small: it is compiled while streaming.
    assetsInlineLimit: 0,
  },
});
