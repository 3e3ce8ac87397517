import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020';
import { buildOpenApiDocument, toOpenApiPath } from '../../core/kernel/http/openapi';
import type { OwnedApiRoute } from '../../core/kernel/http/routes';

const routes: OwnedApiRoute[] = [
  {
    owner: 'core',
    method: 'post',
    path: '/programs/:id/assignments',
    summary: 'Assign learners',
    access: 'admin',
    successStatus: 201,
    body: { type: 'object', required: ['source'], properties: { source: { type: 'string' } } },
    response: { type: 'object', properties: { id: { type: 'integer' } } },
    handler: () => ({}),
  },
  { owner: 'core', method: 'get', path: '/programs/:id/learners/:userId', summary: 'Learner state', access: 'user', tags: ['programs'], handler: () => ({}) },
  { owner: 'local_hello', method: 'get', path: '/hello', summary: 'Say hello', access: 'public', handler: () => ({}) },
];

describe('OpenAPI document', () => {
  it('converts Express parameters to OpenAPI templates', () => {
    expect(toOpenApiPath('/programs/:id/learners/:userId')).to.deep.equal({ path: '/programs/{id}/learners/{userId}', params: ['id', 'userId'] });
    expect(toOpenApiPath('/plugins')).to.deep.equal({ path: '/plugins', params: [] });
  });

  it('describes each route with its body schema, success status, security and owner tag', () => {
    const doc = buildOpenApiDocument(routes, { version: '1.2.3' });
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.info.version).to.equal('1.2.3');
    expect(doc.servers).to.deep.equal([{ url: '/api/v1' }]);
    const assign = doc.paths['/programs/{id}/assignments']!.post!;
    expect(assign.requestBody!.content['application/json'].schema).to.equal(routes[0]!.body);
    expect(assign.responses).to.have.keys('201', '400', '401', '403', '404', '422');
    expect(assign.security).to.deep.equal([{ bearerAuth: [] }]);
    expect(assign.tags).to.deep.equal(['core']);
    expect(assign.parameters!.map((p) => p.name)).to.deep.equal(['id']);

    const learner = doc.paths['/programs/{id}/learners/{userId}']!.get!;
    expect(learner.tags).to.deep.equal(['programs']);
    expect(learner.responses).to.not.have.key('403');
    expect(learner.parameters!.map((p) => p.name)).to.deep.equal(['id', 'userId']);

    const hello = doc.paths['/hello']!.get!;
    expect(hello.security).to.deep.equal([]);
    expect(hello.tags).to.deep.equal(['local_hello']);
    expect(hello.operationId).to.equal('local_hello_getHello');
    expect(doc.tags.map((t) => t.name)).to.deep.equal(['core', 'local_hello', 'programs']);
    expect(doc.components.securitySchemes.bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
  });

  it('gives every operation a unique operationId', () => {
    const doc = buildOpenApiDocument(routes, { version: '0.0.0' });
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('produces schemas a JSON Schema 2020-12 validator accepts', () => {
    const doc = buildOpenApiDocument(routes, { version: '0.0.0' });
    const ajv = new Ajv2020({ strict: false });
    expect(() => ajv.compile(doc.components.schemas.Error!)).to.not.throw();
    const validateError = ajv.compile(doc.components.schemas.Error!);
    expect(validateError({ error: { code: 'X', message: 'm', details: [] } })).to.equal(true);
    expect(validateError({ error: { message: 'm' } })).to.equal(false);
  });
});
