// @polaris/shared/auth: the API key format (created by the CLI, checked by Identity) and the
// cached authenticator of the services that take keys (collector, gateway).
export { API_KEY_PATTERN, API_KEY_SCOPES, apiKeyPrefix, generateApiKey, hashApiKey, type ApiKeyScope } from './api-key';
export { ApiKeyAuthenticator, bearerToken, requireScope, type Principal } from './api-key-authenticator';
export { presentedApiKey, type ApiKeyHeaders } from './presented-api-key';
