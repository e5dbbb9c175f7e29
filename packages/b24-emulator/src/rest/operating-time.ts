/**
 * A method's operating time over the last ten minutes, per application (docs `limits.md`: 480 s of
 * server time a method in a 10-minute window, then OPERATION_TIME_LIMIT; the `time` block's
 * `operating` and `operating_reset_at`). Entries arrive in time order, so the window drops its
 * oldest from the front and keeps a running sum: each request costs O(1), not a pass over every
 * request of the last ten minutes (thousands under load).
 */
export const OPERATING_WINDOW_MS = 10 * 60_000;

export class OperatingWindow {
  private readonly entries: Array<[at: number, seconds: number]> = [];
  private head = 0;
  private sum = 0;

  /** seconds of server time spent inside the window ending now */
  used(now = Date.now()): number {
    this.dropBefore(now - OPERATING_WINDOW_MS);
    return this.sum;
  }

  /** unix ms of the oldest request still counted (now when none is) */
  oldest(now = Date.now()): number {
    this.dropBefore(now - OPERATING_WINDOW_MS);
    return this.entries[this.head]?.[0] ?? now;
  }

  add(seconds: number, at = Date.now()): void {
    this.entries.push([at, seconds]);
    this.sum += seconds;
  }

  private dropBefore(limit: number): void {
    while (this.head < this.entries.length && this.entries[this.head]![0] <= limit) {
      this.sum -= this.entries[this.head]![1];
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.entries.length) this.sum = 0; // no drift from float subtraction
  }
}
