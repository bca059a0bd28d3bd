export {
  IO_QUEUE,
  TASK_JOB_NAME,
  engineQueue,
  routeTask,
  makeRouter,
  engineQueues,
  engineOf,
  pinnedVersionProblem,
  ENGINE_ALIASES,
} from './routing';
export type { Route, RouteRefusal, TaskJobData } from './routing';
export { Dispatcher } from './dispatcher';
export { EventBus } from './events';
export type { TaskEvent, ControlMessage } from './events';
export { advertiseEngine, listEngines, ServedEngines, servedVersions } from './registry';
export type { EngineAd, ServedVersions } from './registry';
export { connectRedis, pingRedis, RedisUnreachableError } from './redis';
export { holdUploadLease, uploadLeaseKey, UPLOAD_LEASE_SEC } from './uploads';
export { deliverOutcome } from './deliver';
