export * from './conversation';
export * from './booking';
export * from './media-cleanup';
