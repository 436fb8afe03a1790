/** Messages between the server and its inference processes (`serve --workers N`). */
import type { Entity } from './aggregation.js';
import type { TextRequest } from './pipeline.js';

export interface PoolChildConfig {
  model: string;
  maxLength?: number;
  name?: string;
}

export type ToChild =
  | { type: 'predict'; id: number; requests: TextRequest[]; batchSize?: number; stride?: number }
  | { type: 'cancel'; id: number };

export type FromChild =
  | { type: 'ready'; name: string; labels: string[]; maxLength: number }
  | { type: 'warning'; message: string }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; results: Entity[][]; forwardCalls: number }
  | { type: 'error'; id: number; message: string; name: string };
