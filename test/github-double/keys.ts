/** RSA key pairs for test Apps, in the formats GitHub hands out (PKCS#1 private key) and verifies with. */
import { generateKeyPairSync } from 'node:crypto';

export interface AppKeyPair {
  privateKey: string;
  publicKey: string;
}

export function generateAppKeyPair(): AppKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}
