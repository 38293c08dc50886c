import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { PreparedQuery, PreparedQueryShapes } from '../../src/store/prepared-query.js';
import { provisionWorkspace } from '../../src/store/provision-workspace.js';
import { describeOnEachDialect } from '../helpers/each-dialect.js';

const now = new Date('2026-01-01T00:00:00Z');

describeOnEachDialect('PreparedQuery', (testStore) => {
  it('runs the SQL Kysely compiles for the same values, each time with the new values', async () => {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'prepared', allowPrivateCallbacks: false, now });
    const byNameAndId = new PreparedQuery((db: Db, name: string, id: string) =>
      db.selectFrom('workspaces').select(['id', 'name']).where('name', '=', name).where('id', '=', id).where('id', 'is not', null));
    const built = store.db.selectFrom('workspaces').select(['id', 'name']).where('name', '=', 'prepared').where('id', '=', workspace.id).where('id', 'is not', null);
    expect((await byNameAndId.execute(store.db, 'prepared', workspace.id)).rows).toEqual(await built.execute());
    expect(await byNameAndId.takeFirst(store.db, 'prepared', workspace.id)).toEqual({ id: workspace.id, name: 'prepared' });
    expect(await byNameAndId.takeFirst(store.db, 'other', workspace.id)).toBeUndefined();
    // Inside a transaction (same dialect, so the same compiled SQL), and a value used twice.
    const renamed = new PreparedQuery((db: Db, name: string, id: string) =>
      db.updateTable('workspaces').set({ name: sql<string>`${name} || ${name}` }).where('id', '=', id).returning(['name']));
    expect(await store.transaction((repos) => renamed.takeFirst(repos.db, 'ab', workspace.id))).toEqual({ name: 'abab' });
    expect(await byNameAndId.takeFirst(store.db, 'abab', workspace.id)).toEqual({ id: workspace.id, name: 'abab' });
  });

  it('refuses a query that leaves a value out of its SQL (it would run ignoring it)', async () => {
    const store = testStore();
    const ignoresId = new PreparedQuery((db: Db, name: string, _id: string) => db.selectFrom('workspaces').select('id').where('name', '=', name));
    await expect(ignoresId.execute(store.db, 'x', 'y')).rejects.toThrow(/uses 1 of its 2 values/);
  });

  it('PreparedQueryShapes: one query per shape', async () => {
    const store = testStore();
    const { workspace } = await provisionWorkspace(store, { name: 'shapes', allowPrivateCallbacks: false, now });
    let made = 0;
    const selectColumns = new PreparedQueryShapes<[string], Record<string, unknown>>((shape) => {
      made++;
      const columns = shape.split(',') as Array<'id' | 'name'>;
      return new PreparedQuery((db: Db, id: string) => db.selectFrom('workspaces').select(columns).where('id', '=', id));
    });
    expect(await selectColumns.of('name').takeFirst(store.db, workspace.id)).toEqual({ name: 'shapes' });
    expect(await selectColumns.of('id,name').takeFirst(store.db, workspace.id)).toEqual({ id: workspace.id, name: 'shapes' });
    expect(await selectColumns.of('name').takeFirst(store.db, workspace.id)).toEqual({ name: 'shapes' });
    expect(made).toBe(2);
  });
});
