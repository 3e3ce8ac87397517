/**
 * Loaded by mocha before every suite (.mocharc.json `require`): every app a test builds with
 * `createApp()` checks each API response against the matched route's declared schema, so a
 * response that drifts from the OpenAPI document is a 500 RESPONSE_SCHEMA_MISMATCH and the test
 * that met it fails. Child processes (the served site in CLI tests) inherit the setting.
 */
process.env.WAYMARK_VALIDATE_RESPONSES ??= '1';
