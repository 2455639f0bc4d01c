export * from './conversation';
export * from './booking';
