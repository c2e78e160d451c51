/** `npm run chaos`: only the adversarial approval suite, at full size (the script sets how many sequences). */
import base from './jest.config.js';

export default { ...base, roots: ['<rootDir>/test/chaos'], testTimeout: 3_600_000 };
