/// The median and 99th percentile of latency samples (the form every latency figure takes).
public func percentiles(_ samples: some Collection<Duration>) -> (p50: Duration, p99: Duration) {
    precondition(!samples.isEmpty, "no latency samples")
    let sorted = samples.sorted()
    return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
}

/// Whole milliseconds or microseconds of a duration, for printed figures.
public func milliseconds(_ duration: Duration) -> Int { Int(duration / .milliseconds(1)) }
public func microseconds(_ duration: Duration) -> Int { Int(duration / .microseconds(1)) }
