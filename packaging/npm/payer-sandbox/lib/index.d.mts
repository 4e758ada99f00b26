// The ES module entry point exports what the CommonJS one does.
export * from './index.cjs';
