// Prisma's generated clients, imported only where models are wanted (the gateway's main thread, the CLI):
// their runtime and query compiler cost ~27 MB a thread, which worker threads do without.

export const withoutModels = (): never => {
  throw new Error("Prisma's client is not loaded here (a database opened without models): use raw statements");
};

export async function prismaClients() {
  const [sqliteClient, postgresClient] = await Promise.all([import('./generated/sqlite/client.js'), import('./generated/postgresql/client.js')]);
  return { SqliteClient: sqliteClient.PrismaClient, PostgresClient: postgresClient.PrismaClient };
}
