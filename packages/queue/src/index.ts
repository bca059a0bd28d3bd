export {
  IO_QUEUE,
  TASK_JOB_NAME,
  engineQueue,
  routeTask,
  makeRouter,
  engineQueues,
  engineOf,
  ENGINE_ALIASES,
} from './routing';
export type { TaskJobData } from './routing';
export { Dispatcher } from './dispatcher';
export { EventBus } from './events';
export type { TaskEvent, ControlMessage } from './events';
export { advertiseEngine, listEngines, ServedEngines } from './registry';
export type { EngineAd } from './registry';
export { connectRedis, pingRedis, RedisUnreachableError } from './redis';
export { holdUploadLease, uploadLeaseKey, UPLOAD_LEASE_SEC } from './uploads';
export { deliverOutcome } from './deliver';
