import 'fake-indexeddb/auto';

// CI runs the suite on two busy cores: give findBy*/waitFor room before they call a slow render a failure.
if (typeof document !== 'undefined') {
  const { configure } = await import('@testing-library/react');
  configure({ asyncUtilTimeout: 5000 });
}
