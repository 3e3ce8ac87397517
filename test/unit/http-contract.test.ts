import { expect } from 'chai';
import { Id, noQuery, pagingQuery, parseId, pathParams, queryParams, MAX_OFFSET } from '../../core/kernel/http/contract';
import { checkJsonInput } from '../../core/kernel/http/input-limits';
import { closeObjectSchemas, coerceUrlValue, createRequestValidator, createResponseChecker } from '../../core/kernel/http/validation';
import { paramsSchemaOf, querySchemaOf } from '../../core/kernel/http/routes';
import { WaymarkError } from '../../core/kernel/errors';

function thrown(fn: () => unknown): WaymarkError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WaymarkError) return error;
    throw error;
  }
  throw new Error('expected a WaymarkError');
}

describe('HTTP contract', () => {
  describe('parseId', () => {
    it('accepts positive decimal integers only', () => {
      expect(parseId('1')).to.equal(1);
      expect(parseId('16')).to.equal(16);
      expect(parseId('9007199254740991')).to.equal(Number.MAX_SAFE_INTEGER);
      expect(parseId(42)).to.equal(42);
    });

    it('rejects every other spelling, so /courses/0x10 is not course 16', () => {
      for (const text of [
        '0x10',
        '0',
        '-1',
        '1.5',
        '1.0',
        '1e1',
        '+1',
        ' 1',
        '1 ',
        '01',
        'abc',
        '',
        '0o7',
        '0b1',
        '１',
        '9007199254740992',
        '99999999999999999999',
      ]) {
        expect(parseId(text), text).to.equal(null);
      }
      for (const value of [undefined, null, 0, -3, 1.5, Number.NaN, ['1'], { id: 1 }]) expect(parseId(value)).to.equal(null);
    });
  });

  describe('URL value coercion', () => {
    it('converts plain decimal text to the declared type and leaves anything else for the schema to reject', () => {
      expect(coerceUrlValue(Id, '16')).to.equal(16);
      expect(coerceUrlValue(Id, '0x10')).to.equal('0x10');
      expect(coerceUrlValue(Id, '1e1')).to.equal('1e1');
      expect(coerceUrlValue({ type: 'number' }, '2.5')).to.equal(2.5);
      expect(coerceUrlValue({ type: 'boolean' }, 'true')).to.equal(true);
      expect(coerceUrlValue({ type: 'boolean' }, '1')).to.equal('1');
      expect(coerceUrlValue({ type: 'string' }, '16')).to.equal('16');
      expect(coerceUrlValue(Id, ['1', '2'])).to.deep.equal(['1', '2']);
    });
  });

  describe('path parameters', () => {
    const validator = createRequestValidator();
    const schema = pathParams(['id', 'userId']);

    it('gives the handler numbers', () => {
      expect(validator.params(schema, { id: '3', userId: '12' })).to.deep.equal({ id: 3, userId: 12 });
    });

    it('answers 404 for anything that is not a positive integer', () => {
      for (const bad of ['0x10', '0', '-1', '1.5', 'abc', '99999999999999999999']) {
        const error = thrown(() => validator.params(schema, { id: bad, userId: '1' }));
        expect(error.status, bad).to.equal(404);
        expect(error.code).to.equal('NOT_FOUND');
      }
    });

    it('defaults to "every :name is an id" and "no query parameters" for routes that declare nothing', () => {
      const route: { path: string; query?: undefined } = { path: '/programs/:id/learners/:userId' };
      expect(validator.params(paramsSchemaOf(route), { id: '1', userId: '2' })).to.deep.equal({ id: 1, userId: 2 });
      expect(thrown(() => validator.params(paramsSchemaOf(route), { id: '1', userId: 'x' })).status).to.equal(404);
      expect(querySchemaOf(route)).to.equal(noQuery);
    });
  });

  describe('query parameters', () => {
    const validator = createRequestValidator();
    const paged = queryParams({ ...pagingQuery, status: { enum: ['open', 'resolved'] } });

    it('applies defaults and coerces', () => {
      expect(validator.query(paged, {})).to.deep.equal({ limit: 100, offset: 0 });
      expect(validator.query(paged, { limit: '5', offset: '10', status: 'resolved' })).to.deep.equal({ limit: 5, offset: 10, status: 'resolved' });
    });

    it('rejects an unknown parameter with 400 naming it', () => {
      const error = thrown(() => validator.query(paged, { limt: '5' }));
      expect(error.status).to.equal(400);
      expect(error.code).to.equal('QUERY_INVALID');
      expect(error.details).to.deep.include({ path: '/limt', code: 'unknown_parameter', message: 'is not a query parameter of this route' });
      expect(thrown(() => validator.query(noQuery, { anything: '' })).status).to.equal(400);
    });

    it('bounds limit to 1..1000 and offset to 0..2^31-1, and rejects unknown enum values and repeated parameters', () => {
      for (const query of [
        { limit: '0' },
        { limit: '1001' },
        { limit: '-1' },
        { limit: '1.5' },
        { limit: 'ten' },
        { offset: '-1' },
        { offset: String(MAX_OFFSET + 1) },
        { offset: '99999999999999999999' },
        { status: 'bogus' },
        { limit: ['1', '2'] },
      ]) {
        const error = thrown(() => validator.query(paged, query));
        expect(error.status, JSON.stringify(query)).to.equal(400);
        expect(error.details.length).to.be.greaterThan(0);
      }
      expect(validator.query(paged, { limit: '1000', offset: String(MAX_OFFSET) })).to.include({ limit: 1000, offset: MAX_OFFSET });
    });
  });

  describe('body bounds', () => {
    it('rejects nesting deeper than 32 levels without recursing', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 20000; i++) deep = { a: deep };
      const error = thrown(() => checkJsonInput({ availability: deep }));
      expect(error.status).to.equal(400);
      expect(error.code).to.equal('JSON_TOO_DEEP');
      let ok: unknown = 1;
      for (let i = 0; i < 31; i++) ok = [ok];
      expect(() => checkJsonInput(ok)).to.not.throw();
    });

    it('rejects lone surrogates in strings and keys with 422 naming the field, and accepts well-formed pairs', () => {
      const error = thrown(() => checkJsonInput({ name: 'ok', list: ['x', 'bad \ud800 text'] }));
      expect(error.status).to.equal(422);
      expect(error.code).to.equal('INVALID_UNICODE');
      expect(error.details[0]!.path).to.equal('/list/1');
      expect(thrown(() => checkJsonInput({ ['\udc00']: 1 })).code).to.equal('INVALID_UNICODE');
      expect(thrown(() => checkJsonInput('\ud83d')).code).to.equal('INVALID_UNICODE');
      expect(() => checkJsonInput({ name: 'emoji \ud83d\ude00 and accents é' })).to.not.throw();
    });
  });

  describe('response checking', () => {
    it('treats listed properties as complete and reports the body and schema paths of a mismatch', () => {
      const schema = {
        type: 'object',
        required: ['id'],
        properties: { id: Id, items: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } } },
      };
      const checker = createResponseChecker();
      expect(checker.check('GET /x', 200, schema, { id: 1, items: [{ n: 1 }] })).to.deep.equal([]);
      const extra = checker.check('GET /x', 200, schema, { id: 1, items: [{ n: 1, secret: 'x' }] });
      expect(extra).to.have.length(1);
      expect(extra[0]).to.include({ route: 'GET /x', status: 200, path: '/items/0/secret' });
      expect(extra[0]!.schemaPath).to.match(/additionalProperties/);
      expect(checker.check('GET /x', 200, schema, { id: '1' })[0]).to.include({ path: '/id' });
    });

    it('leaves open maps and the caller’s schema object alone', () => {
      const map = { type: 'object', additionalProperties: { type: 'string' } };
      const schema = { type: 'object', properties: { m: map } };
      expect(closeObjectSchemas(schema)).to.deep.equal({ type: 'object', properties: { m: map }, additionalProperties: false });
      expect(schema).to.not.have.property('additionalProperties');
    });
  });
});
