/** Request counts per portal and method, and the answers a test wants to count (503s, 429s). */
export class Stats {
  private readonly counts = new Map<string, { requests: number; byMethod: Record<string, number>; byStatus: Record<string, number> }>();

  record(memberId: string | undefined, method: string, status: number): void {
    const key = memberId ?? '(unauthenticated)';
    const entry = this.counts.get(key) ?? { requests: 0, byMethod: {}, byStatus: {} };
    entry.requests += 1;
    entry.byMethod[method] = (entry.byMethod[method] ?? 0) + 1;
    entry.byStatus[status] = (entry.byStatus[status] ?? 0) + 1;
    this.counts.set(key, entry);
  }

  snapshot(refreshes: Map<string, number>) {
    return Object.fromEntries(
      [...this.counts.entries()].map(([memberId, entry]) => [memberId, { ...entry, refreshes: refreshes.get(memberId) ?? 0 }]),
    );
  }

  reset(): void {
    this.counts.clear();
  }
}
