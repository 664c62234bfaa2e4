// Build-time constants (client/vite.config.ts `define`).
/** True only in test builds (VIGIL_TEST_HOOKS=1): compiles in window.__vigil and frame captures. */
declare const __VIGIL_TEST_HOOKS__: boolean;
