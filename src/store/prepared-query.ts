import { createQueryId, type Compilable, type CompiledQuery, type QueryResult, type RootOperationNode } from 'kysely';
import type { Db } from './db.js';

/** Stands in for the value at `index` while the query is built; the compiled query's parameters name where each goes. */
class Placeholder {
  constructor(readonly index: number) {}
}

/** A compiled query's SQL and, for each parameter, the value it takes: a placeholder's index or a constant built in. */
interface Template {
  sql: string;
  query: RootOperationNode;
  parameters: ReadonlyArray<{ index: number } | { constant: unknown }>;
}

/**
 * A query whose SQL never changes, only its values: Kysely builds and
 * compiles it once per dialect and afterwards only its parameters are
 * filled in. On the call path building and compiling cost more CPU than
 * SQLite running the statement (about 18 µs of 28 per statement), for the
 * twenty-odd statements every call runs.
 *
 * `build` gets stand-ins for the values and must use each only where Kysely
 * makes a parameter of it (a value compared or written), never to choose
 * the query's shape: a query whose columns or clauses vary takes one
 * PreparedQuery per shape. Every stand-in must reach the SQL, or `execute`
 * throws on its first use, rather than run a query that ignores a value.
 */
export class PreparedQuery<Values extends unknown[], Row> {
  /** By dialect adapter: transactions share their database's, and SQLite and PostgreSQL compile differently. */
  readonly #templates = new WeakMap<object, Template>();

  /** `arity`: how many values `build` takes; by default its declared parameters after `db` (give it for a rest parameter). */
  constructor(
    private readonly build: (db: Db, ...values: Values) => Compilable<Row>,
    private readonly arity: number = build.length - 1,
  ) {}

  /** Runs the query on `db` (the store's database or a transaction) with these values. */
  async execute(db: Db, ...values: Values): Promise<QueryResult<Row>> {
    const template = this.#templateFor(db);
    const parameters = template.parameters.map((p) => ('index' in p ? values[p.index] : p.constant));
    const compiled: CompiledQuery<Row> = { sql: template.sql, query: template.query, queryId: createQueryId(), parameters };
    return db.executeQuery(compiled);
  }

  /** The first row (undefined when there is none). */
  async takeFirst(db: Db, ...values: Values): Promise<Row | undefined> {
    return (await this.execute(db, ...values)).rows[0];
  }

  #templateFor(db: Db): Template {
    const adapter = db.getExecutor().adapter;
    let template = this.#templates.get(adapter);
    if (!template) {
      const placeholders = Array.from({ length: this.arity }, (_, i) => new Placeholder(i));
      const compiled = this.build(db, ...(placeholders as unknown as Values)).compile();
      const parameters = compiled.parameters.map((p) => (p instanceof Placeholder ? { index: p.index } : { constant: p }));
      const used = new Set(parameters.flatMap((p) => ('index' in p ? [p.index] : [])));
      if (used.size !== this.arity) throw new Error(`prepared query uses ${used.size} of its ${this.arity} values: ${compiled.sql}`);
      template = { sql: compiled.sql, query: compiled.query, parameters };
      this.#templates.set(adapter, template);
    }
    return template;
  }
}

/** Shapes kept per family before the least recently made one goes: the call path has a handful per statement. */
const shapesKept = 64;

/**
 * PreparedQueries of one statement whose shape varies with its input (the
 * columns an update sets), one per shape, made on first use.
 */
export class PreparedQueryShapes<Values extends unknown[], Row> {
  readonly #byShape = new Map<string, PreparedQuery<Values, Row>>();

  constructor(private readonly make: (shape: string) => PreparedQuery<Values, Row>) {}

  of(shape: string): PreparedQuery<Values, Row> {
    let query = this.#byShape.get(shape);
    if (!query) {
      if (this.#byShape.size >= shapesKept) this.#byShape.delete(this.#byShape.keys().next().value!);
      query = this.make(shape);
      this.#byShape.set(shape, query);
    }
    return query;
  }
}
