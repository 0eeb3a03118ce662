// Public API of @seqcast/service-manifest.
export {
  findManifestPath,
  loadServiceManifest,
  MANIFEST_FILE,
  manifestProblems,
  parseServiceManifest,
  SERVICE_NAME,
  type ServiceDefinition,
  serviceDefinitionSchema,
  serviceEntries,
  type ServiceKind,
  type ServiceManifest,
  serviceManifestSchema,
} from './lib/service-manifest';
