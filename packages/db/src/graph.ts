export * from './graph/types';
export { createJob, createTask } from './graph/create';
export {
  claimTask,
  completeTask,
  failTask,
  beginUpload,
  revertUpload,
  cancelTask,
  retryTask,
} from './graph/lifecycle';
export { deleteTask, deleteJob } from './graph/delete';
export { deleteExpired } from './graph/expire';
export type { Expired } from './graph/expire';
export type { Deletion } from './graph/delete';
export type { ClaimedTask, ClaimResult, Completion, InputFile } from './graph/lifecycle';
export {
  findStrandedTasks,
  findLostTasks,
  findUploadsInProgress,
  rerouteStranded,
} from './graph/sweep';
