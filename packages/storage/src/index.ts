export type { Storage, StoredObject, ReadRange } from './storage';
export { LocalStorage } from './local.storage';
export { signPath, verifyPath } from './signing';
