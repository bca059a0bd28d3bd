export {
  allowSandboxFile,
  isMd5,
  listSandboxFiles,
  removeSandboxFile,
  sandboxRefusal,
} from './sandbox';
export type { SandboxFileRow, SandboxRefusal } from './sandbox';
export { chargeCredits } from './credits';
export { archiveUsage, usageOf } from './usage';
export type { UsageQuery, UsageRow } from './usage';
