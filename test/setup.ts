import 'fake-indexeddb/auto';

// CI runs the suite on two busy cores: give findBy*/waitFor room before they call a slow render a failure.
// Every React render is wrapped in <StrictMode>, as a Vite app renders in development: bindings must survive double effects.
if (typeof document !== 'undefined') {
  const { configure } = await import('@testing-library/react');
  configure({ asyncUtilTimeout: 5000, reactStrictMode: true });
}
