/**
 * Renders the REST reference of docs/api.md from the OpenAPI document
 * (openapi.ts): every operation with its parameters, request body fields,
 * response, error codes and a curl example, then every object. The page's
 * hand-written parts stay outside the markers; `npm run docs:api` rewrites
 * what is between them and a test fails when the page is out of step.
 */
type Json = Record<string, unknown>;

export const beginMarker = '<!-- BEGIN GENERATED REFERENCE: edit src/api/openapi*.ts or src/api/body-schemas/, then run `npm run docs:api` -->';
export const endMarker = '<!-- END GENERATED REFERENCE -->';

/** Where the curl examples send requests, and the variables holding the keys. */
const exampleBaseUrl = 'http://127.0.0.1:8080';
const keyVariables: Record<string, string> = { workspaceKey: 'SAUTIKIT_API_KEY', adminKey: 'SAUTIKIT_ADMIN_KEY' };
const methods = ['get', 'post', 'put', 'patch', 'delete'];

const obj = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A table cell: one line, pipes escaped. */
const cell = (value: string): string => value.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

/** GitHub's heading anchor for `title`. */
export function anchorOf(title: string): string {
  return title.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const refName = (schema: Json): string | undefined => text(schema['$ref']).split('/').pop() || undefined;
const objectHeading = (name: string): string => `${name} object`;
const objectLink = (name: string): string => `[${name}](#${anchorOf(objectHeading(name))})`;

/** The type of a schema in words: `string or null`, `array of [Call](#call-object)`, `` `udp` \| `tcp` ``. */
export function typeOf(schemaValue: unknown): string {
  const schema = obj(schemaValue);
  const name = refName(schema);
  if (name) return objectLink(name);
  if ('const' in schema) return `\`${JSON.stringify(schema['const'])}\``;
  if (Array.isArray(schema['enum'])) return schema['enum'].map((v) => (v === null ? 'null' : `\`${String(v)}\``)).join(' | ');
  if (Array.isArray(schema['oneOf'])) return schema['oneOf'].map(typeOf).join(' or ');
  if (Array.isArray(schema['allOf'])) return schema['allOf'].map(typeOf).join(' and ');
  const types = Array.isArray(schema['type']) ? schema['type'].map(String) : schema['type'] ? [String(schema['type'])] : [];
  const words = types.map((t) => {
    if (t === 'array') {
      const items = obj(schema['items']);
      return Object.keys(items).length ? `array of ${typeOf(items)}` : 'array';
    }
    if (t === 'string' && schema['format'] === 'binary') return 'binary';
    return t;
  });
  return words.length ? words.join(' or ') : 'any';
}

/** The lines of a field table (request body fields, or an object's fields). */
function fieldTable(schemaValue: unknown, withRequest: boolean): string[] {
  const schema = obj(schemaValue);
  const required = new Set(list(schema['required']).map(String));
  const properties = Object.entries(obj(schema['properties']));
  if (properties.length === 0) return [];
  const lines = withRequest ? ['| field | type | default | required | description |', '| --- | --- | --- | --- | --- |'] : ['| field | type | description |', '| --- | --- | --- |'];
  for (const [name, propValue] of properties) {
    const prop = obj(propValue);
    const description = cell(text(prop['description']));
    if (withRequest) {
      const fallback = 'default' in prop ? `\`${JSON.stringify(prop['default'])}\`` : '';
      lines.push(`| \`${name}\` | ${cell(typeOf(prop))} | ${cell(fallback)} | ${required.has(name) ? 'yes' : ''} | ${description} |`);
    } else {
      lines.push(`| \`${name}\` | ${cell(typeOf(prop))} | ${description} |`);
    }
  }
  return lines;
}

function parameterTable(parameters: unknown[]): string[] {
  if (parameters.length === 0) return [];
  const lines = ['| parameter | in | type | default | required | description |', '| --- | --- | --- | --- | --- | --- |'];
  for (const p of parameters.map(obj)) {
    const schema = obj(p['schema']);
    const fallback = 'default' in schema ? `\`${JSON.stringify(schema['default'])}\`` : '';
    lines.push(`| \`${text(p['name'])}\` | ${text(p['in'])} | ${cell(typeOf(schema))} | ${fallback} | ${p['required'] ? 'yes' : ''} | ${cell(text(p['description']))} |`);
  }
  return ['', ...lines];
}

function requestBodySection(operation: Json): string[] {
  const body = obj(operation['requestBody']);
  const media = obj(obj(body['content'])['application/json']);
  if (!Object.keys(media).length) return [];
  const schema = obj(media['schema']);
  const optional = body['required'] === false ? ' (optional)' : '';
  const intro = text(schema['description']);
  if (schema['type'] === 'array') {
    return ['', `**Request body**${optional}: a JSON array of objects${intro ? `; ${intro}` : ''}:`, '', ...fieldTable(schema['items'], true)];
  }
  return ['', `**Request body**${optional}: JSON${intro ? `, ${intro}` : ''}.`, '', ...fieldTable(schema, true), ...itemTables(schema)];
}

/** The fields of the objects a body's array fields hold (the rates of a rate table, `{number, type}` entries). */
function itemTables(schema: Json): string[] {
  return Object.entries(obj(schema['properties'])).flatMap(([name, prop]) => {
    const items = obj(obj(prop)['items']);
    return Object.keys(obj(items['properties'])).length ? ['', `Each object of \`${name}\`:`, '', ...fieldTable(items, true)] : [];
  });
}

function responseSection(operation: Json): string[] {
  const responses = obj(operation['responses']);
  const success = Object.keys(responses).find((s) => /^2\d\d$/.test(s));
  if (!success) return [];
  const response = obj(responses[success]);
  const content = obj(response['content']);
  const [mediaType, mediaValue] = Object.entries(content)[0] ?? [];
  if (!mediaType) return ['', `**Response** \`${success}\`: ${text(response['description'])}.`];
  const media = obj(mediaValue);
  const schema = obj(media['schema']);
  if (mediaType !== 'application/json') return ['', `**Response** \`${success}\`: the file (\`${mediaType}\`).`];
  const lines = [''];
  const inline = !refName(schema) && schema['type'] === 'object' && Object.keys(obj(schema['properties'])).length > 0;
  const itemsInline = schema['type'] === 'array' && !refName(obj(schema['items'])) && Object.keys(obj(obj(schema['items'])['properties'])).length > 0;
  if (inline) lines.push(`**Response** \`${success}\`: an object:`, '', ...fieldTable(schema, false));
  else if (itemsInline) lines.push(`**Response** \`${success}\`: an array of objects:`, '', ...fieldTable(schema['items'], false));
  else lines.push(`**Response** \`${success}\`: ${typeOf(schema)}.`);
  if ('example' in media) lines.push('', 'Example response:', '', '```json', JSON.stringify(media['example'], null, 2), '```');
  return lines;
}

function errorLine(operation: Json): string[] {
  const parts: string[] = [];
  for (const [status, responseValue] of Object.entries(obj(operation['responses']))) {
    if (!/^[45]\d\d$/.test(status)) continue;
    const schema = obj(obj(obj(obj(responseValue)['content'])['application/json'])['schema']);
    const codes = list(schema['allOf']).flatMap((part) => list(obj(obj(obj(obj(obj(part)['properties'])['error'])['properties'])['code'])['enum']));
    parts.push(`${status} ${codes.map((c) => `[\`${String(c)}\`](errors.md#${String(c)})`).join(', ')}`);
  }
  return parts.length ? ['', `**Errors**: ${parts.join(' · ')}.`] : [];
}

/** A curl command for the operation, from the parameters' and the body's examples. */
export function curlExample(method: string, path: string, operation: Json): string {
  const parameters = list(operation['parameters']).map(obj);
  let url = path;
  for (const p of parameters.filter((p) => p['in'] === 'path')) {
    const name = text(p['name']);
    const example = 'example' in p ? String(p['example']) : `$${name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
    url = url.replace(`{${name}}`, example);
  }
  const query = parameters.filter((p) => p['in'] === 'query' && 'example' in p).map((p) => `${text(p['name'])}=${String(p['example'])}`);
  if (query.length) url += `?${query.join('&')}`;
  const binary = Object.keys(obj(obj(obj(operation['responses'])['200'])['content'])).some((t) => t !== 'application/json');
  const head = `curl -s${binary ? ' -L -o recording.wav' : ''}${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} "${exampleBaseUrl}${url}"`;
  const lines = [head];
  const scheme = Object.keys(obj(list(operation['security'])[0]))[0];
  if (scheme) lines.push(`  -H "Authorization: Bearer $${keyVariables[scheme] ?? 'SAUTIKIT_API_KEY'}"`);
  for (const h of parameters.filter((p) => p['in'] === 'header')) lines.push(`  -H "${text(h['name'])}: ${'example' in h ? String(h['example']) : `$${text(h['name']).replace(/-/g, '_').toUpperCase()}`}"`);
  const media = obj(obj(obj(operation['requestBody'])['content'])['application/json']);
  if ('example' in media) {
    lines.push('  -H "Content-Type: application/json"');
    lines.push(`  -d '${JSON.stringify(media['example']).replace(/'/g, `'\\''`)}'`);
  }
  return lines.join(' \\\n');
}

function operationSection(method: string, path: string, operation: Json): string[] {
  const title = `\`${method.toUpperCase()} ${path}\``;
  return [
    '', `### ${title}`, '',
    `${text(operation['summary'])}.${operation['description'] ? ` ${text(operation['description'])}` : ''}`,
    ...parameterTable(list(operation['parameters'])),
    ...requestBodySection(operation),
    ...responseSection(operation),
    ...errorLine(operation),
    '', '```sh', curlExample(method, path, operation), '```',
  ];
}

/** The generated reference: operations grouped by tag in the document's tag order, then the objects. */
export function renderApiReference(documentValue: unknown): string {
  const doc = obj(documentValue);
  const paths = obj(doc['paths']);
  const tags = list(doc['tags']).map(obj);
  const byTag = new Map<string, Array<[string, string, Json]>>(tags.map((t) => [text(t['name']), []]));
  for (const [path, item] of Object.entries(paths)) {
    for (const method of methods) {
      const operation = obj(obj(item)[method]);
      if (!Object.keys(operation).length) continue;
      const tag = text(list(operation['tags'])[0]) || 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push([method, path, operation]);
    }
  }
  const schemas = Object.entries(obj(obj(doc['components'])['schemas']));
  const out: string[] = ['## Endpoints', ''];
  for (const [tag, ops] of byTag) {
    if (!ops.length) continue;
    out.push(`- [${tag}](#${anchorOf(tag)}): ${ops.map(([m, p]) => `[\`${m.toUpperCase()} ${p}\`](#${anchorOf(`${m.toUpperCase()} ${p}`)})`).join(', ')}`);
  }
  out.push(`- [Objects](#objects): ${schemas.map(([name]) => objectLink(name)).join(', ')}`);
  for (const [tag, ops] of byTag) {
    if (!ops.length) continue;
    const description = text(tags.find((t) => t['name'] === tag)?.['description']);
    out.push('', `## ${tag}`, ...(description ? ['', description] : []));
    for (const [method, path, operation] of ops) out.push(...operationSection(method, path, operation));
  }
  out.push('', '## Objects');
  for (const [name, schemaValue] of schemas) {
    const schema = obj(schemaValue);
    out.push('', `### ${objectHeading(name)}`, ...(schema['description'] ? ['', text(schema['description'])] : []), '', ...fieldTable(schema, false));
  }
  return `${out.join('\n')}\n`;
}

/** `page` with the text between the markers replaced by `generated`; the markers are added at the end if missing. */
export function spliceReference(page: string, generated: string): string {
  const begin = page.indexOf(beginMarker);
  const end = page.indexOf(endMarker);
  const block = `${beginMarker}\n\n${generated.trimEnd()}\n\n${endMarker}`;
  if (begin === -1 || end === -1 || end < begin) return `${page.trimEnd()}\n\n${block}\n`;
  return page.slice(0, begin) + block + page.slice(end + endMarker.length);
}
