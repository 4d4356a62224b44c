namespace IoModels.Cli.Demos;

/// <summary>
/// The OS's own view of what a demo measures: Linux commands to run in another terminal while the demo runs
/// (its server lives in the demo's process), each with what to look at. One place, so every demo words them alike.
/// </summary>
internal static class DemoVerify
{
    public static IReadOnlyList<string> AcceptQueueAndThreads(int pid, bool zh) => [AcceptQueue(zh), Threads(pid, zh)];

    /// <summary>The listener's queue: connections the kernel completed that nobody has accepted yet.</summary>
    public static string AcceptQueue(bool zh) => zh
        ? "watch -n 0.2 ss -lnt    监听套接字的 Recv-Q：内核已完成握手、还没有被 accept 的连接数；Send-Q：backlog"
        : "watch -n 0.2 ss -lnt    Recv-Q of a listener: connections the kernel completed and nobody accepted; Send-Q: the backlog";

    public static string ListenOverflows(bool zh) => zh
        ? "nstat -az TcpExtListenOverflows    accept 队列满时被丢掉的 SYN（演示前后各看一次）"
        : "nstat -az TcpExtListenOverflows    SYNs dropped because an accept queue was full (look before and after)";

    public static string Threads(int pid, bool zh) => zh
        ? $"grep -E 'Threads|ctxt_switches' /proc/{pid}/status    线程数，以及自愿上下文切换：每次都是一个线程睡下去等待"
        : $"grep -E 'Threads|ctxt_switches' /proc/{pid}/status    threads, and voluntary context switches: a thread going to sleep to wait";

    public static string SystemCalls(int pid, bool zh) => zh
        ? $"strace -f -c -p {pid}    演示结束后按 Ctrl+C：每种系统调用的次数和出错次数（EAGAIN 记为出错）"
        : $"strace -f -c -p {pid}    Ctrl+C after the run: calls and errors per system call (an EAGAIN counts as an error)";

    public static string ThreadCpu(int pid, bool zh) => zh
        ? $"top -H -p {pid}    每个线程占用的 CPU"
        : $"top -H -p {pid}    CPU per thread";

    public static string Descriptors(int pid, bool zh) => zh
        ? $"ls /proc/{pid}/fd | wc -l    打开的描述符：这里每个空闲客户端两个（连接的两端都在这个进程里）"
        : $"ls /proc/{pid}/fd | wc -l    descriptors open: two per idle client here (both ends live in this process)";

    public static string NonBlockingFlag(int pid, bool zh) => zh
        ? $"grep flags /proc/{pid}/fdinfo/*    八进制 flags 含 04000 的是非阻塞（O_NONBLOCK）描述符"
        : $"grep flags /proc/{pid}/fdinfo/*    octal flags with 04000 set: a non-blocking (O_NONBLOCK) descriptor";
}
