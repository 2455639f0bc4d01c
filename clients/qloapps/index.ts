export { createQloAppsClient, type QloAppsClientOptions } from './client';
export { countsAgainstBreaker, isPmsOutage, pmsMaybeDone, pmsRejected, pmsUnavailable } from './failures';
export { createShopCache, type ShopCache } from './shop-cache';
export { createPmsOrigins, type PmsOrigins, type PmsOriginsOptions } from './origins';
