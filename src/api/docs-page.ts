/**
 * The offline `/docs` page: a self-contained HTML rendering of the OpenAPI document (no scripts,
 * no external resources) — each operation with its roles, parameters, body and answer schemas —
 * and the catalogue of error codes, each with the anchor that problem `type` URIs point to.
 */
import { ERROR_CATALOGUE } from '../errors.js';

type Json = Record<string, unknown>;

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const block = (value: unknown): string => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

export const DOCS_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

export function renderDocsPage(document: Json): string {
  const info = document['info'] as Json;
  const paths = document['paths'] as Record<string, Record<string, Json>>;
  const schemes = ((document['components'] as Json)['securitySchemes'] ?? {}) as Record<string, Json>;
  const operations: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const roles = op['x-roles'];
      const params = (op['parameters'] ?? []) as Json[];
      const body = ((op['requestBody'] as Json | undefined)?.['content'] as Json | undefined)?.['application/json'] as Json | undefined;
      const responses = op['responses'] as Record<string, Json>;
      operations.push(`<section id="${escapeHtml(String(op['operationId']))}">
<h3><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(text(op['summary']))}${op['description'] ? ` — ${escapeHtml(text(op['description']))}` : ''}</p>
<p><b>Roles:</b> ${roles === 'public' ? 'none (unsigned)' : roles === 'any' ? 'any member' : escapeHtml((roles as string[]).join(', '))}</p>
${params.length > 0 ? `<p><b>Parameters:</b></p><ul>${params.map((p) => `<li><code>${escapeHtml(String(p['name']))}</code> (${escapeHtml(String(p['in']))}${p['required'] ? ', required' : ''})${p['description'] ? ` — ${escapeHtml(text(p['description']))}` : ''}</li>`).join('')}</ul>` : ''}
${body ? `<details><summary>Request body</summary>${block(body['schema'])}</details>` : ''}
<ul>${Object.entries(responses)
        .map(([status, response]) => {
          const content = response['content'] as Record<string, Json> | undefined;
          const schema = content && Object.values(content)[0]?.['schema'];
          const description = text(response['description']);
          const described = status.startsWith('2') ? escapeHtml(description) : description.split(', ').map((code) => `<a href="#${escapeHtml(code)}">${escapeHtml(code)}</a>`).join(', ');
          return `<li><b>${escapeHtml(status)}</b> ${described}${schema && status.startsWith('2') ? `<details><summary>schema</summary>${block(schema)}</details>` : ''}</li>`;
        })
        .join('')}</ul>
</section>`);
    }
  }
  const errors = Object.entries(ERROR_CATALOGUE)
    .map(([code, spec]) => `<tr id="${code}"><td><code>${code}</code></td><td>${spec.status}</td><td>${escapeHtml(spec.title)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info['title']))} API ${escapeHtml(String(info['version']))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.6rem;overflow:auto}section{border-top:1px solid #ddd;padding:.4rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700}table{border-collapse:collapse}td{border-bottom:1px solid #eee;padding:.2rem .6rem}</style>
</head><body>
<h1>${escapeHtml(String(info['title']))} API <small>${escapeHtml(String(info['version']))}</small></h1>
<p>${escapeHtml(text(info['description']))}</p>
<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Signing</h2>${Object.values(schemes).map((s) => `<p>${escapeHtml(text(s['description']))}</p>`).join('')}
<h2>Operations</h2>
${operations.join('\n')}
<h2>Error codes</h2>
<p>Every error is <code>application/problem+json</code> with <code>type</code>, <code>title</code>, <code>status</code>, <code>code</code>, <code>detail</code> and, for validation errors, <code>errors[]</code> of <code>{path, message}</code> with JSON Pointer paths.</p>
<table><tr><th>code</th><th>status</th><th>meaning</th></tr>
${errors}
</table>
</body></html>`;
}
