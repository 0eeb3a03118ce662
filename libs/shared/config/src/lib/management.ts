import { envField } from './env-field';

/**
 * MANAGEMENT_PORT: where a service serves /healthz, /readyz and /metrics for the cluster (kubelet,
 * Prometheus), apart from its public port; bound on HOST like the public port.
 */
export function managementEnv(defaultPort: number) {
  return { MANAGEMENT_PORT: envField.port(defaultPort) };
}
