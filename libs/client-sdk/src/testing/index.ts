// Test support of @seqcast/client (`@seqcast/client/testing`): a scripted fake gateway behind the
// transport seam. Tests only; not part of the published package.
export * from './fake-transport';
