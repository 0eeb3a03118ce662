import { now } from './clock';
import type { Delivery, FaultMark, History, PublishAttempt, StoredMessage, SubscriberInfo } from './history';

/** Collects a run's history as it happens; `history()` hands the checker a snapshot. */
export class Recorder {
  readonly publishes: PublishAttempt[] = [];
  readonly deliveries: Delivery[] = [];
  readonly faults: FaultMark[] = [];
  readonly subscribers: SubscriberInfo[] = [];
  stored: Record<string, StoredMessage[]> = {};

  /** Marks a fault's start; call the returned function when it is lifted. */
  fault(name: string): () => void {
    const mark: FaultMark = { name, at: now() };
    this.faults.push(mark);
    return () => {
      mark.until = now();
    };
  }

  history(): History {
    return {
      publishes: [...this.publishes],
      deliveries: [...this.deliveries],
      stored: this.stored,
      subscribers: [...this.subscribers],
      faults: [...this.faults],
    };
  }
}
