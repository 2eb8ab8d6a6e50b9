export { TezipCodec, tezipShape } from './codec';
export type { TezipCodecConfig } from './codec';
