// The .tez container's building blocks (docs/FORMAT.md).
export * from './format';
export * from './reader';
export * from './file';
export * from './recover';
