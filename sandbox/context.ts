import type { BillDownloads } from './bills/downloads';
import type { BillTweaks } from './bills/tweaks';
import type { FaultBook } from './faults';
import type { SandboxKeys } from './keys';
import type { Notifier } from './notifier';
import type { Store } from './store';

/** What every request handler needs; built once per sandbox by startSandbox(). */
export interface SandboxContext {
  keys: SandboxKeys;
  store: Store;
  faults: FaultBook;
  /** Row-level bill faults (POST /sandbox/bills/tweaks). */
  billTweaks: BillTweaks;
  /** Bill files behind their download tokens. */
  billDownloads: BillDownloads;
  notifier: Notifier;
  log: (line: string) => void;
  /** The sandbox's own base URL (the h5_url and Alipay's cashier point back at it). */
  url: string;
}
