import { afterEach, describe, expect, it } from '@jest/globals';
import { InputError, readInputs } from '../../action/inputs.js';

/** The runner passes inputs as INPUT_<NAME> with the name upper-cased and dashes kept. */
function setInputs(inputs: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(inputs)) if (value !== undefined) process.env[`INPUT_${name.toUpperCase()}`] = value;
}

afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key];
});

describe('readInputs', () => {
  it.each([
    {
      name: 'minimal, trailing slash dropped, audience defaults to app-url',
      inputs: { action: 'deploy', 'app-url': 'https://jit.example.com/' },
      expected: { action: 'deploy', appUrl: 'https://jit.example.com', audience: 'https://jit.example.com', failOnReject: true, timeoutSeconds: undefined },
    },
    {
      name: 'path kept, loopback http allowed',
      inputs: { action: 'migrate', 'app-url': 'http://127.0.0.1:8080/jit//' },
      expected: { appUrl: 'http://127.0.0.1:8080/jit', audience: 'http://127.0.0.1:8080/jit' },
    },
    {
      name: 'every optional input',
      inputs: {
        action: 'deploy', 'app-url': 'https://jit.example.com', environment: 'production', severity: 'high',
        summary: '**Deploy** v1.2', timeout: '1h30m', audience: 'jit-approval', 'fail-on-reject': 'false', 'github-token': 'ghs_x',
      },
      expected: {
        environment: 'production', severity: 'high', summary: '**Deploy** v1.2', timeoutSeconds: 5400,
        audience: 'jit-approval', failOnReject: false, githubToken: 'ghs_x',
      },
    },
    {
      name: 'empty optional inputs are unset',
      inputs: { action: 'deploy', 'app-url': 'https://jit.example.com', environment: '', timeout: '', 'fail-on-reject': '' },
      expected: { environment: undefined, timeoutSeconds: undefined, failOnReject: true },
    },
  ])('$name', ({ inputs, expected }) => {
    setInputs(inputs);
    expect(readInputs()).toMatchObject(expected);
  });

  it.each([
    { name: 'action missing', inputs: { 'app-url': 'https://jit.example.com' }, problem: /action is required/ },
    { name: 'app-url missing', inputs: { action: 'deploy' }, problem: /app-url is required/ },
    { name: 'app-url not a URL', inputs: { action: 'deploy', 'app-url': 'jit.example.com' }, problem: /app-url "jit.example.com" is not a URL/ },
    { name: 'plain http to a remote host', inputs: { action: 'deploy', 'app-url': 'http://jit.example.com' }, problem: /must use https:\/\// },
    { name: 'ftp', inputs: { action: 'deploy', 'app-url': 'ftp://localhost' }, problem: /must use https:\/\// },
    { name: 'credentials in the URL', inputs: { action: 'deploy', 'app-url': 'https://u:p@jit.example.com' }, problem: /must not contain credentials/ },
    { name: 'query string', inputs: { action: 'deploy', 'app-url': 'https://jit.example.com/?x=1' }, problem: /must not have a query/ },
    { name: 'timeout without a unit', inputs: { action: 'deploy', 'app-url': 'https://jit.example.com', timeout: '30' }, problem: /timeout: invalid duration "30"/ },
    { name: 'timeout in words', inputs: { action: 'deploy', 'app-url': 'https://jit.example.com', timeout: '30 minutes' }, problem: /timeout: invalid duration/ },
    { name: 'zero timeout', inputs: { action: 'deploy', 'app-url': 'https://jit.example.com', timeout: '0s' }, problem: /longer than zero/ },
    { name: 'fail-on-reject not a boolean', inputs: { action: 'deploy', 'app-url': 'https://jit.example.com', 'fail-on-reject': 'yes' }, problem: /fail-on-reject must be true or false, not "yes"/ },
  ])('rejects: $name', ({ inputs, problem }) => {
    setInputs(inputs);
    expect(() => readInputs()).toThrow(problem);
  });

  // URL parsers take those without `//` (or with backslashes) as a user name and password too.
  it.each([
    'https://deployer:s3cret@jit.example.com',
    'http://deployer:s3cret@jit.example.com',
    'https://deployer:s3cret@jit example.com',
    'https://deployer:s3/cret@jit.example.com',
    'https://deployer:p@ss:s3cret@jit.example.com',
    'https:deployer:s3cret@jit.example.com',
    'https:\\\\deployer:s3cret@jit.example.com',
    'https:/deployer:s3cret@jit.example.com',
    'deployer:s3cret@jit.example.com',
  ])('does not repeat the password in %s', (appUrl) => {
    setInputs({ action: 'deploy', 'app-url': appUrl });
    expect(() => readInputs()).toThrow(/app-url "[^"]*jit/);
    expect(() => readInputs()).not.toThrow(/s3/);
  });

  it('lists every problem at once', () => {
    setInputs({ 'app-url': 'http://jit.example.com', timeout: 'soon' });
    let error: unknown;
    try {
      readInputs();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toHaveLength(3);
  });
});
