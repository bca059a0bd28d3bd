export type { Storage, StoredObject, ReadRange } from './storage';
export { LocalStorage } from './local.storage';
export { pathSigner, signPath, verifyPath } from './signing';
