/**
 * Builds the console into dist/ for the server to serve under /console/: hashed assets, CSS in
 * files (the server's CSP allows no inline script or style), no module-preload polyfill
 * (it would be an inline script in older Vite versions and is not needed by current browsers).
 */
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
    assetsInlineLimit: 0,
    rolldownOptions: {
      onLog(level, log, handler) {
        // Radix marks its modules "use client" for React Server Components; a browser bundle has no use for it.
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
});
