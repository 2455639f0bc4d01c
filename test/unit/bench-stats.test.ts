import { parseStatCpuTicks } from '../../bench/proc';
import { meanLatencies, parsePrometheus } from '../../bench/sdk-metrics';
import { median, percentile, summarize } from '../../bench/stats';

describe('benchmark percentiles', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it('uses the nearest rank: p50 of 1..100 is 50, p95 is 95, p99 is 99, p100 the maximum', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('takes a value that was measured, never one interpolated between two', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
    expect(percentile([7], 99)).toBe(7);
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('has no percentile of nothing and refuses a rank outside 0..100', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('takes the median of paired-round ratios as the mean of the middle two for an even count', () => {
    expect(median([0.9, 1.1, 0.95, 1.0])).toBeCloseTo(0.975);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
  });

  it('summarizes a latency list with its count, p50, p95, p99 and max', () => {
    expect(summarize(hundred)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarize([1.234, 5.678], 1)).toEqual({ count: 2, p50: 1.2, p95: 5.7, p99: 5.7, max: 5.7 });
    expect(summarize([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });
});

describe('benchmark process and metrics readers', () => {
  it('reads utime + stime from /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(parseStatCpuTicks(stat)).toBe(1234 + 567);
  });

  it('computes mean latencies between two Prometheus scrapes from their sum and count', () => {
    const before = parsePrometheus(
      [
        '# HELP temporal_activity_execution_latency x',
        'temporal_activity_execution_latency_sum{activity_type="a"} 100',
        'temporal_activity_execution_latency_count{activity_type="a"} 10',
      ].join('\n'),
    );
    const after = parsePrometheus(
      [
        'temporal_activity_execution_latency_sum{activity_type="a"} 130',
        'temporal_activity_execution_latency_count{activity_type="a"} 12',
        'temporal_activity_execution_latency_sum{activity_type="b"} 10',
        'temporal_activity_execution_latency_count{activity_type="b"} 1',
      ].join('\n'),
    );
    const execution = meanLatencies(before, after).find((m) => m.metric === 'temporal_activity_execution_latency');
    expect(execution).toEqual({ metric: 'temporal_activity_execution_latency', count: 3, meanMs: 13.3 });
  });
});
