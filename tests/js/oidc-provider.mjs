// An independent OpenID provider for Liaison's tests: `oidc-provider` on 127.0.0.1 (a free port),
// one confidential client, PKCE required, a fresh RSA signing key, dev interactions (any login
// name, password ignored; see findAccount for the names that change the claims). Prints
// "LISTENING <port>" once ready.
// Usage: node oidc-provider.mjs <redirect_uri> <client_id> <client_secret>
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [redirectUri, clientId, clientSecret] = process.argv.slice(2);
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'role'] },
    // The login name picks the account's claims: `alice` is alice@idp.example, verified, with no
    // role; options after `+` change that: `+unverified` (email_verified: false), `+role=WORD`.
    async findAccount(ctx, id) {
      const [base, ...options] = id.split('+');
      const role = options.find((o) => o.startsWith('role='))?.slice(5);
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: `${base}@idp.example`,
            email_verified: !options.includes('unverified'),
            name: `User ${base}`,
            ...(role ? { role } : {}),
          };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(`LISTENING ${port}`);
});
