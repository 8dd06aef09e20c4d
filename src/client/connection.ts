/**
 * Connection settings for clients and workers, from the standard Temporal environment
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, TLS and API key variables, or a config profile),
 * so the same commands work against the dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export interface ConnectSettings {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function connectSettings(): ConnectSettings {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    address: connectionOptions.address ?? 'localhost:7233',
    namespace: namespace ?? 'default',
    connectionOptions,
  };
}

export async function connectClient(settings: ConnectSettings = connectSettings()): Promise<Client> {
  try {
    const connection = await Connection.connect(settings.connectionOptions);
    return new Client({ connection, namespace: settings.namespace });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${settings.address} (${(err as Error).message}); ` +
        'start the dev server with ./temporal-dev.sh start, or set TEMPORAL_ADDRESS',
    );
  }
}
