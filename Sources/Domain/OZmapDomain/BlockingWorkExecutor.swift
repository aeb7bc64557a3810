import Dispatch
import Foundation
import Synchronization

/// Where ozmapd's own work runs: its handlers, the outbox and the box sync call SQLite
/// synchronously (GRDB), and a call that blocks must not hold one of the few threads of
/// Swift's cooperative pool (two on two cores), which every other task — NIO's bridges,
/// the timers, the other calls — needs. Tasks that prefer this executor
/// (`withTaskExecutorPreference`, `Task(executorPreference:)`) run on its own threads
/// instead; actors they call run there too. A fixed pool, not a concurrent Dispatch queue:
/// on Linux that runs only as many jobs as there are cores, blocked or not.
public final class BlockingWorkExecutor: TaskExecutor {
    /// The one instance, as NIO's singletons are: every part of ozmapd shares it.
    public static let shared = BlockingWorkExecutor(threads: 16)

    private let jobs = Mutex(JobQueue())
    private let available = DispatchSemaphore(value: 0)

    /// `threads`: how many jobs may block at once before the next waits.
    public init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in
                while true {
                    available.wait()
                    guard let job = jobs.withLock({ $0.pop() }) else { continue }
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
            thread.name = "ozmapd-work-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.push(job) }
        available.signal()
    }
}

/// First in, first out, in O(1) a job: a flood queues thousands.
private struct JobQueue: ~Copyable {
    private var items: [UnownedJob?] = []
    private var head = 0

    mutating func push(_ job: UnownedJob) { items.append(job) }

    mutating func pop() -> UnownedJob? {
        guard head < items.count else { return nil }
        let job = items[head]
        items[head] = nil
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        else if head > 1024, head * 2 > items.count { items.removeFirst(head); head = 0 }
        return job
    }
}
