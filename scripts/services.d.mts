/** A real server started by scripts/services.mjs; `stop()` ends its own process and removes its data. */
export interface Service {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}
export function freePort(): Promise<number>;
export function startRedis(): Promise<Service>;
export function startPostgres(): Promise<Service>;
