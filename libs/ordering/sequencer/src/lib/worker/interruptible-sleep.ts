/**
 * Backoff pauses that a shutdown cuts short: stop() must not wait for a retry delay of seconds
 * before the consumer can leave its group.
 */
export class InterruptibleSleep {
  private readonly sleepers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Ends every pending sleep now. */
  wakeAll(): void {
    this.sleepers.forEach((wake) => wake());
  }
}
