// Public API of @seqcast/tools (the local Nx plugin; generators.json lists its generators).
export { serviceGenerator, type ServiceGeneratorSchema } from './service/generator';
