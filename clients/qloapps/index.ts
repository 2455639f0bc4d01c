export { createQloAppsClient, type QloAppsClientOptions } from './client';
export { isPmsOutage, pmsRejected, pmsUnavailable } from './failures';
export { createPmsOrigins, type PmsOrigins, type PmsOriginsOptions } from './origins';
