export { conversation } from './conversation';
export { booking } from './booking';
export * from './media-cleanup';
export { guestMediaErasure } from './guest-erasure';
export { stayMessages } from './stay-messages';
