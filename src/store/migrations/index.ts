import type { Migration, MigrationProvider } from 'kysely';
import * as initialSchema from './001-initial-schema.js';

/** Migrations in order; names sort, and Kysely applies each once. */
const migrations: Record<string, Migration> = {
  '001-initial-schema': initialSchema,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
